// Writing an object into the day-partitioned raw.trips (sql/warehouse/011_raw_trips_partitioned.sql).
//
// PostgreSQL cannot enforce a unique id across partitions, so the global id map raw.trip_ids (id primary key,
// where the id's row is, its version) takes the primary key's place, kept in the object's transaction:
//   - direct: the object's rows are COPYed into its day's partition (the manifest entry's dt, the partition
//     made before the transaction), then their ids go into the map from that partition's rows of this
//     transaction. An id the map holds already fails that insert with a unique violation, as the COPY into
//     the unpartitioned table did, and the object loads staged; a row of another day fails the COPY on the
//     partition's constraint, and the object loads staged too.
//   - staged: the map rows of the object's ids are locked in id order and read (where the row is, its
//     version); the ids whose version the object outranks are updated where they are, one statement per
//     day they are in, so each statement touches one partition (a row whose time changes day moves with
//     PostgreSQL's row movement, and the map follows through raw.trips' UPDATE trigger); the ids the map
//     does not hold are inserted through the parent, whose INSERT trigger adds their map rows.
// Every statement reaches the map by its primary key and at most the days the object touches, so the cost
// follows the object, not the number of partitions. The object's day gets its partition before the
// transaction, staged or direct; a row routed to a day without one waits in trips_default until
// home_strays() moves it to its own. The staged path locks trips_default (ROW EXCLUSIVE) before anything
// else, so no partition is attached while its statements route rows.
#pragma once

#include <string>

#include "common/batch/layout.h"
#include "common/error.h"
#include "common/pg/connection.h"

namespace fp::batch::trips {

// The session's temporary table of the staged path (ON COMMIT DELETE ROWS, like the staging tables).
Status prepare(pg::Connection& conn);

// The partition holding `day` ("YYYY-MM-DD"), made if missing. In a statement of its own, outside the
// object's transaction: making a partition locks the parent and trips_default until it commits.
Result<std::string> partition_for(pg::Connection& conn, const std::string& day);

// After a direct COPY into `partition`: the copied rows into the id map. A unique violation (an id already
// loaded, or twice in the object) sends the object to the staged path.
Status register_copied(pg::Connection& conn, const std::string& partition);

// The staged path for row versions (staging table stage_trips) and tombstones (stage_trips_deletes): newest
// version by (epoch, _source_xid) wins, a row version a tie with a tombstone. An id twice in the object is
// invalid input, unless `versions` (a compacted object, holding every version its replaced objects held:
// the newest of each id is kept); an id another loader inserted meanwhile is a transient error (the object
// is tried again).
Status upsert_staged(pg::Connection& conn, const TableSpec& t, const std::string& key, int epoch,
                     bool versions);
Status apply_deletes(pg::Connection& conn, const std::string& key, int epoch, bool versions);

// Rows waiting in trips_default for a day without a partition get their partition. After the transaction
// that wrote them: it returns the days homed.
Result<int> home_strays(pg::Connection& conn);

}  // namespace fp::batch::trips
