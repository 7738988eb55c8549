#include "retain/hot_window.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/batch/layout.h"
#include "common/batch/session.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/pg/error.h"
#include "load/verify_days.h"

namespace fp::retain {
namespace {

constexpr const char* kLog = "retain";

struct Partition {
  std::string name, range_start, range_end;
};

// What an earlier run found for a partition that was not dropped.
struct EarlierCheck {
  int failures = 0;
  double age_s = 0;  // since that check
};

struct Figures {
  int64_t rows = 0;
  std::string checksum = "0";
  bool operator==(const Figures&) const = default;
};

std::string interval_sql(std::chrono::minutes m) {
  return fmt::format("{} minutes", m.count());
}

// Partitions for now and the next two intervals, so writers rarely make one themselves.
Result<int> make_next_partitions(pg::Connection& src, const LifecycleConfig& lc) {
  auto r = FP_TRY(src.query("SELECT trip_partitions_ensure(ARRAY[now()::timestamp, "
                            "now()::timestamp + $1::interval, now()::timestamp + 2 * $1::interval])",
                            interval_sql(lc.trips_partition_interval)),
                  "make the next partitions");
  return FP_TRY(r.get<int>(0, 0), "partitions made");
}

// Drops the source recorded that the warehouse has not (a run stopped between the two). The last day's
// are enough: a drop is copied by the run that made it, or by the next one.
Result<int> copy_drop_ledger(pg::Connection& src, pg::Connection& dw) {
  auto since = FP_TRY(dw.query("SELECT coalesce(max(dropped_at), '-infinity')::text FROM ops.retention_drops "
                               "WHERE table_name = 'trips'"),
                      "newest recorded drop");
  auto drops =
      FP_TRY(src.query("SELECT partition_name, range_start::text, range_end::text, dropped_rows, "
                       "dropped_checksum::text, dropped_at::text FROM trip_partitions "
                       "WHERE dropped_at IS NOT NULL AND dropped_at > $1::timestamptz - interval '1 day'",
                       std::string(FP_TRY(since.get<std::string>(0, 0), "newest drop"))),
             "dropped partitions");
  int copied = 0;
  for (int i = 0; i < drops.size(); ++i) {
    auto r = FP_TRY(
        dw.query("INSERT INTO ops.retention_drops (table_name, partition_name, range_start, range_end, rows, "
                 "checksum, dropped_at) VALUES ('trips', $1, $2::timestamp, $3::timestamp, $4, $5::numeric, "
                 "$6::timestamptz) ON CONFLICT DO NOTHING",
                 FP_TRY(drops.get<std::string>(i, 0), "name"), FP_TRY(drops.get<std::string>(i, 1), "start"),
                 FP_TRY(drops.get<std::string>(i, 2), "end"), FP_TRY(drops.get<int64_t>(i, 3), "rows"),
                 FP_TRY(drops.get<std::string>(i, 4), "checksum"),
                 FP_TRY(drops.get<std::string>(i, 5), "at")),
        "record drop");
    copied += static_cast<int>(r.affected());
  }
  return copied;
}

Result<std::vector<Partition>> past_window(pg::Connection& src, const LifecycleConfig& lc) {
  auto r = FP_TRY(src.query("SELECT partition_name, range_start::text, range_end::text FROM trip_partitions "
                            "WHERE dropped_at IS NULL AND range_end <= now()::timestamp - $1::interval "
                            "ORDER BY range_start",
                            interval_sql(lc.trips_hot_window)),
                  "partitions past the hot window");
  std::vector<Partition> out;
  for (int i = 0; i < r.size(); ++i)
    out.push_back({FP_TRY(r.get<std::string>(i, 0), "name"), FP_TRY(r.get<std::string>(i, 1), "start"),
                   FP_TRY(r.get<std::string>(i, 2), "end")});
  return out;
}

Result<std::map<std::string, EarlierCheck>> earlier_checks(pg::Connection& dw) {
  auto r = FP_TRY(dw.query("SELECT partition_name, range_start::text, failures, "
                           "extract(epoch FROM now() - checked_at)::float8 FROM ops.retention_checks "
                           "WHERE table_name = 'trips'"),
                  "earlier checks");
  std::map<std::string, EarlierCheck> out;
  for (int i = 0; i < r.size(); ++i)
    out[FP_TRY(r.get<std::string>(i, 0), "name") + "@" + FP_TRY(r.get<std::string>(i, 1), "start")] = {
        FP_TRY(r.get<int>(i, 2), "failures"), FP_TRY(r.get<double>(i, 3), "age")};
  return out;
}

// The rows of [start, end) on one side: count and checksum, and on the source the snapshot's xmin (every
// change the read did not see was made by a transaction at or above it).
Result<std::pair<Figures, std::string>> read_figures(pg::Connection& conn, const std::string& rows_sql,
                                                     const Partition& p) {
  const auto& trips = *batch::find_table("trips");
  auto r = FP_TRY(conn.query(fmt::format("SELECT count(*), coalesce(sum(hashtext({})::bigint), 0)::text, "
                                         "pg_snapshot_xmin(pg_current_snapshot())::text FROM ({}) x "
                                         "WHERE measurement_time >= $1::timestamp AND measurement_time < "
                                         "$2::timestamp",
                                         batch::canonical_row_text(trips), rows_sql),
                             p.range_start, p.range_end),
                  "count and checksum");
  return std::pair<Figures, std::string>{
      Figures{FP_TRY(r.get<int64_t>(0, 0), "count"), FP_TRY(r.get<std::string>(0, 1), "checksum")},
      FP_TRY(r.get<std::string>(0, 2), "xmin")};
}

Status record_difference(pg::Connection& dw, const Partition& p, const PartitionOutcome& o) {
  FP_CHECK(
      dw.query(
          "INSERT INTO ops.retention_checks (table_name, partition_name, range_start, range_end, "
          "source_rows, warehouse_rows, reason) VALUES ('trips', $1, $2::timestamp, $3::timestamp, $4, $5, "
          "$6) ON CONFLICT (table_name, partition_name, range_start) DO UPDATE SET checked_at = now(), "
          "failures = ops.retention_checks.failures + 1, source_rows = excluded.source_rows, "
          "warehouse_rows = excluded.warehouse_rows, reason = excluded.reason",
          p.name, p.range_start, p.range_end, o.source_rows, o.warehouse_rows, o.reason),
      "record the difference");
  return ok_status();
}

// Compares one partition with the warehouse and drops it when they hold the same rows.
Result<PartitionOutcome> settle(pg::Connection& src, pg::Connection& dw, const Partition& p, bool dry_run) {
  PartitionOutcome o{p.name, p.range_start, p.range_end, 0, 0, false, {}};
  auto [source, xmin] = FP_TRY(read_figures(src, "SELECT * FROM public.trips", p), "source " + p.name);
  auto [warehouse, unused] =
      FP_TRY(read_figures(dw, "SELECT * FROM raw.trips WHERE _deleted_xid IS NULL", p), "warehouse");
  o.source_rows = source.rows;
  o.warehouse_rows = warehouse.rows;
  if (!(source == warehouse)) {
    o.reason = source.rows != warehouse.rows
                   ? fmt::format("the warehouse holds {} of its {} rows", warehouse.rows, source.rows)
                   : "same row count, different checksums: some rows differ";
    FP_CHECK(record_difference(dw, p, o), "record the difference");
    return o;
  }
  if (dry_run) {
    o.reason = "dry run: would drop";
    return o;
  }
  auto dropped = src.query("SELECT trip_partition_drop($1, $2::xid8, $3, $4::numeric)", p.name, xmin,
                           source.rows, source.checksum);
  if (!dropped) {
    // lock_not_available: writers kept the table busy for the function's lock_timeout; next run.
    if (!pg::is_lock_not_available(dropped.error()))
      return std::move(dropped).error().context("drop " + p.name);
    o.reason = "the table stayed busy (lock timeout); next run";
    return o;
  }
  const auto answer = FP_TRY(dropped->get<std::string>(0, 0), "drop");
  if (answer != "dropped") {
    o.reason = answer;
    FP_CHECK(record_difference(dw, p, o), "record the difference");
    return o;
  }
  o.dropped = true;
  log::emit(log::Level::kInfo, kLog, "partition dropped: every row is in the warehouse",
            {{"partition", p.name},
             {"range_start", p.range_start},
             {"range_end", p.range_end},
             {"rows", source.rows},
             {"checksum", source.checksum}});
  FP_CHECK(dw.query("DELETE FROM ops.retention_checks WHERE table_name = 'trips' AND partition_name = $1 "
                    "AND range_start = $2::timestamp",
                    p.name, p.range_start),
           "forget checks");
  return o;
}

}  // namespace

std::chrono::minutes retry_pause(int failures, std::chrono::minutes first, std::chrono::minutes max) {
  std::chrono::minutes pause = first;
  for (int i = 1; i < failures && pause < max; ++i) pause *= 2;
  return std::min(pause, max);
}

Result<RetainReport> run_retain(const Config& cfg, const RetainOptions& opts) {
  const auto session = batch::text_stable_session("fleetpipe retain", std::chrono::minutes(30));
  auto src = FP_TRY(pg::Connection::connect(cfg.webapp_as(DbService::kPipeline), session), "connect webapp");
  auto dw =
      FP_TRY(pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), session), "connect warehouse");
  const auto& lc = cfg.lifecycle;
  RetainReport report;
  report.partitions_made = FP_TRY(make_next_partitions(src, lc), "retain");
  report.drops_recorded = FP_TRY(copy_drop_ledger(src, dw), "retain");
  const auto checks = FP_TRY(earlier_checks(dw), "retain");
  for (const auto& p : FP_TRY(past_window(src, lc), "retain")) {
    auto it = checks.find(p.name + "@" + p.range_start);
    if (it != checks.end()) {
      const auto pause = retry_pause(it->second.failures, opts.first_pause, opts.max_pause);
      if (it->second.age_s < std::chrono::duration<double>(pause).count()) {
        ++report.waiting;
        continue;
      }
    }
    if (static_cast<int>(report.partitions.size()) >= opts.max_partitions) break;
    auto o = FP_TRY(settle(src, dw, p, opts.dry_run), "retain");
    if (o.dropped) report.rows_dropped += o.source_rows;
    report.partitions.push_back(std::move(o));
  }
  FP_CHECK(copy_drop_ledger(src, dw), "retain");  // this run's drops
  // The raw detail after the source: a raw day goes only once the source has dropped its rows.
  report.raw_partitions = FP_TRY(
      retain_raw_days(src, dw, lc, RawDaysOptions{opts.prefix, opts.dry_run, opts.max_partitions}), "retain");
  for (const auto& p : report.raw_partitions)
    if (p.dropped) report.raw_rows_dropped += p.rows;
  auto def = FP_TRY(src.query("SELECT count(*) FROM trips_default"), "rows outside the partitions");
  report.default_rows = FP_TRY(def.get<int64_t>(0, 0), "rows outside the partitions");
  return report;
}

}  // namespace fp::retain
