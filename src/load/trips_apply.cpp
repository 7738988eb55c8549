#include "load/trips_apply.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "common/pg/error.h"

namespace fp::batch::trips {
namespace {

// The map's columns (sql/warehouse/011_raw_trips_partitioned.sql): where the row is and its version, which
// the staged path reads; with its natural key, which the direct path registers too.
constexpr const char* kMapColumns = "id, measurement_time, _source_epoch, _source_xid";
constexpr const char* kMapAllColumns =
    "id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id, measurement_sequence";

// Whether the staged event s outranks the known version k: `op` is "<=" for a row version (it wins a tie:
// a tombstone of its own transaction, deleted and inserted again, ends live; loading twice changes only the
// bookkeeping) and "<" for a tombstone. `epoch` is the parameter holding the object's epoch.
std::string outranks(const char* op, const char* epoch) {
  return fmt::format("(k._source_epoch, k._source_xid) {} ({}, s._source_xid)", op, epoch);
}

// The days (ISO dates; nullopt: no time, trips_default) where the known rows the object outranks are.
Result<std::vector<std::optional<std::string>>> days_of_winners(pg::Connection& conn,
                                                                const std::string& stage, const char* op,
                                                                int epoch) {
  auto r = FP_TRY(conn.query(fmt::format("SELECT DISTINCT k.measurement_time::date::text FROM {} s "
                                         "JOIN stage_trips_known k USING (id) WHERE {}",
                                         stage, outranks(op, "$1")),
                             epoch),
                  "days of the known ids");
  std::vector<std::optional<std::string>> days;
  for (int i = 0; i < r.size(); ++i) days.push_back(FP_TRY(r.get<std::optional<std::string>>(i, 0), "day"));
  return days;
}

// The condition keeping an UPDATE of raw.trips r to one day's partition (trips_default for no time), on
// both the row and the map's idea of it. $3 is the day.
std::string one_day(const std::optional<std::string>& day) {
  if (!day) return "r.measurement_time IS NULL AND k.measurement_time IS NULL";
  return "r.measurement_time >= $3::date AND r.measurement_time < $3::date + 1 "
         "AND k.measurement_time >= $3::date AND k.measurement_time < $3::date + 1";
}

// Updates the known ids the object outranks, one statement per day they are in ($1 key, $2 epoch, $3 day).
Status update_known(pg::Connection& conn, const std::string& stage, const char* op, const std::string& set,
                    const std::string& key, int epoch) {
  for (const auto& day : FP_TRY(days_of_winners(conn, stage, op, epoch), "update")) {
    const std::string sql = fmt::format(
        "UPDATE raw.trips r SET {0} FROM {1} s JOIN stage_trips_known k USING (id) "
        "WHERE r.id = s.id AND {2} AND {3}",
        set, stage, outranks(op, "$2"), one_day(day));
    auto done = day ? conn.query(sql, key, epoch, *day) : conn.query(sql, key, epoch);
    if (!done)
      return std::move(done).error().context(fmt::format("update the rows of {}", day.value_or("no day")));
  }
  return ok_status();
}

// Locks the map rows of the staged ids in id order (two loaders touching the same ids wait for each other
// rather than deadlock) and keeps where each row is and its version. The lateral subquery is one primary
// key probe per staged id, whatever the planner guesses of the staging table.
Status lock_known(pg::Connection& conn, const std::string& stage) {
  const std::string sql = fmt::format(
      "INSERT INTO stage_trips_known SELECT m.* FROM (SELECT id FROM {} ORDER BY id) s "
      "CROSS JOIN LATERAL (SELECT {} FROM raw.trip_ids m WHERE m.id = s.id FOR UPDATE) m",
      stage, kMapColumns);
  FP_CHECK(conn.query(sql), "lock the known ids");
  return ok_status();
}

// A compacted object's older versions of an id leave the staging table: the newest stays (ties cannot
// happen: one transaction writes one version of an id; ctid keeps the statement total).
Status keep_newest_versions(pg::Connection& conn, const std::string& stage) {
  FP_CHECK(conn.query(fmt::format("DELETE FROM {0} s USING {0} o WHERE s.id = o.id AND "
                                  "(s._source_xid, s.ctid) < (o._source_xid, o.ctid)",
                                  stage)),
           "older versions");
  return ok_status();
}

// An id twice in one object: the unpartitioned upsert refused it ("cannot affect row a second time").
Status refuse_duplicates(pg::Connection& conn, const std::string& stage) {
  auto r = FP_TRY(conn.query(fmt::format("SELECT id FROM {} GROUP BY id HAVING count(*) > 1 LIMIT 1", stage)),
                  "duplicate ids");
  if (!r.empty())
    return invalid_input("id {} appears twice in the object", FP_TRY(r.get<int64_t>(0, 0), "id"));
  return ok_status();
}

// Inserts the ids the map does not hold (raw.trips' INSERT trigger adds their map rows). Another loader that
// inserted one of them meanwhile makes the map's primary key refuse it: transient, the object is tried
// again and then finds the id known.
Status insert_unknown(pg::Connection& conn, const std::string& columns, const std::string& select,
                      const std::string& stage, const std::string& key, int epoch) {
  const std::string sql = fmt::format(
      "INSERT INTO raw.trips ({0}) SELECT {1} FROM {2} s WHERE NOT EXISTS "
      "(SELECT 1 FROM stage_trips_known k WHERE k.id = s.id) ORDER BY s.id",
      columns, select, stage);
  auto r = conn.query(sql, key, epoch);
  if (!r && pg::is_unique_violation(r.error()))
    return std::move(r)
        .error()
        .context("an id was inserted by another load meanwhile")
        .as(Error::Kind::kTransient);
  if (!r) return std::move(r).error().context("insert new ids");
  return ok_status();
}

// Before a staged statement that may route rows to trips_default: a partition attached while it runs
// (trip_partitions_ensure locks trips_default exclusively to attach) would leave it routing by the
// partitions it saw at its start, into a trips_default that no longer accepts the day (23514). Taken before
// the map's row locks, so that every loader takes its locks in one order.
Status hold_default(pg::Connection& conn) {
  FP_CHECK(conn.exec("LOCK TABLE raw.trips_default IN ROW EXCLUSIVE MODE"), "lock trips_default");
  return ok_status();
}

std::string columns_of(const TableSpec& t) {
  std::string s;
  for (const auto& c : t.columns) s += fmt::format("{}, ", c.name);
  return s + "_source_xid";
}

}  // namespace

Status prepare(pg::Connection& conn) {
  return conn.exec(
      "CREATE TEMP TABLE IF NOT EXISTS stage_trips_known (id bigint PRIMARY KEY, measurement_time timestamp, "
      "_source_epoch integer, _source_xid bigint) ON COMMIT DELETE ROWS");
}

Result<std::string> partition_for(pg::Connection& conn, const std::string& day) {
  auto r = FP_TRY(conn.query("SELECT partition_name FROM raw.trip_partitions_ensure(ARRAY[$1::date]) "
                             "WHERE day = $1::date",
                             day),
                  "partition of " + day);
  if (r.empty()) return make_error("no partition made for {}", day);
  return r.get<std::string>(0, 0);
}

Status register_copied(pg::Connection& conn, const std::string& partition) {
  const auto table = FP_TRY(conn.quote_identifier(partition), "partition");
  // The rows this transaction wrote, through the partition's _load_xid index.
  FP_CHECK(conn.query(fmt::format("INSERT INTO raw.trip_ids ({0}) SELECT {0} FROM raw.{1} "
                                  "WHERE _load_xid = pg_current_xact_id()",
                                  kMapAllColumns, table)),
           "register the copied ids");
  return ok_status();
}

Status upsert_staged(pg::Connection& conn, const TableSpec& t, const std::string& key, int epoch,
                     bool versions) {
  FP_CHECK(hold_default(conn), "rows");
  if (versions) FP_CHECK(keep_newest_versions(conn, "stage_trips"), "rows");
  FP_CHECK(refuse_duplicates(conn, "stage_trips"), "rows");
  FP_CHECK(lock_known(conn, "stage_trips"), "rows");
  std::string set;
  for (const auto& c : t.columns)
    if (c.name != "id") set += fmt::format("{0} = s.{0}, ", c.name);
  set +=
      "_source_xid = s._source_xid, _source_epoch = $2, _deleted_xid = NULL, _deleted_at = NULL, "
      "_object_key = $1, _loaded_at = now(), _load_xid = pg_current_xact_id()";
  FP_CHECK(update_known(conn, "stage_trips", "<=", set, key, epoch), "rows");
  const std::string columns = columns_of(t);
  return insert_unknown(conn, columns + ", _object_key, _source_epoch", columns + ", $1, $2", "stage_trips",
                        key, epoch);
}

Status apply_deletes(pg::Connection& conn, const std::string& key, int epoch, bool versions) {
  FP_CHECK(hold_default(conn), "tombstones");
  if (versions) FP_CHECK(keep_newest_versions(conn, "stage_trips_deletes"), "tombstones");
  FP_CHECK(refuse_duplicates(conn, "stage_trips_deletes"), "tombstones");
  FP_CHECK(lock_known(conn, "stage_trips_deletes"), "tombstones");
  const std::string set =
      "_source_xid = s._source_xid, _source_epoch = $2, _deleted_xid = s._source_xid, _deleted_at = now(), "
      "_object_key = $1, _loaded_at = now(), _load_xid = pg_current_xact_id()";
  FP_CHECK(update_known(conn, "stage_trips_deletes", "<", set, key, epoch), "tombstones");
  // An id never seen: a row of NULLs carrying the tombstone (no time: trips_default), so an older version
  // loaded later cannot bring it back.
  return insert_unknown(conn, "id, _source_xid, _source_epoch, _deleted_xid, _deleted_at, _object_key",
                        "id, _source_xid, $2, _source_xid, now(), $1", "stage_trips_deletes", key, epoch);
}

Result<int> home_strays(pg::Connection& conn) {
  auto r = FP_TRY(conn.query("SELECT count(*) FROM raw.trip_partitions_ensure('{}'::date[])"), "home strays");
  return r.get<int>(0, 0);
}

}  // namespace fp::batch::trips
