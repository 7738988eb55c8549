// `fleetpipe retain`'s warehouse side: the raw detail's retention (FLEETPIPE_WAREHOUSE_RAW_RETENTION, unset
// by default: keep everything). raw.trips is partitioned by day
// (sql/warehouse/011_raw_trips_partitioned.sql); a partition goes only when all of these hold:
//   (a) it ended more than the retention ago;
//   (b) the source holds no row of its days (the hot window dropped them), and the loader has finished
//       every export run whose source snapshot is older than the source's last drop of those days, so no
//       version of their rows is still on its way (an old version loaded after the drop would come back);
//   (c) the incremental marts have consumed every row of it. dbt's change log (stg_trip_changes) reads, in
//       each build's batch b, the raw rows written at or after the previous batch's snapshot xmin that the
//       build's snapshot S_b sees; every transaction below xmin(S_b) had ended when S_b was taken, so each
//       raw row whose _load_xid is below xmin(S_b) has been compared with stg_trips by a batch up to b
//       (logged as a change, or found unchanged). A lane model whose watermark (ops.dbt_watermarks) is at
//       least b has applied every batch up to b. So with B the lowest watermark of the lane, every row of
//       the partition has reached the marts when its newest _load_xid is below batch B's batch_xmin.
// The partition's live rows are counted and checksummed per day (verify's canonical text) in a snapshot;
// the database function raw.trip_partition_drop then, with raw.trips locked for a moment, refuses if a row
// was written or changed since or is not consumed, records the figures in ops.raw_trip_drops (verify adds
// them to the warehouse side, as the source side adds its drops), forgets the ids in raw.trip_ids and drops
// the partition. The marts are untouched: dbt reads raw.trips through the change log only, and a full
// refresh of the lane is refused once raw detail is gone (dbt/macros/raw_retention.sql).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/pg/connection.h"

namespace fp::retain {

struct RawDaysOptions {
  std::string prefix;  // the bucket prefix whose finished load runs count for (b)
  bool dry_run = false;
  int max_partitions = 16;  // partitions checked in one run at most
};

struct RawPartitionOutcome {
  std::string partition;
  std::string range_start, range_end;  // days, the end excluded
  int64_t rows = 0;                    // live rows (read only when everything else allowed the drop)
  bool dropped = false;
  std::string reason;  // why it stays (empty when dropped)
};

// What decides whether a partition past the retention may go.
struct RawPartitionFacts {
  bool source_holds_rows = false;  // the webapp's trips still has rows of its days
  bool runs_caught_up = false;     // every export run older than the source's drop of its days is loaded
  bool marts_built = false;        // every model of the incremental lane has a watermark
  bool consumed = false;           // its newest _load_xid is below the lowest watermark batch's xmin
};

// Why the partition stays, or "" when it may go.
std::string raw_keep_reason(const RawPartitionFacts& f);

// Drops the raw partitions that may go (none unless the retention is set). `src`: the webapp database.
Result<std::vector<RawPartitionOutcome>> retain_raw_days(pg::Connection& src, pg::Connection& dw,
                                                         const LifecycleConfig& lc,
                                                         const RawDaysOptions& opts);

}  // namespace fp::retain
