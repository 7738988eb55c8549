#include "retain/raw_days.h"

#include <fmt/format.h>

#include <optional>

#include "common/batch/layout.h"
#include "common/log.h"
#include "common/pg/error.h"
#include "load/plan.h"
#include "load/verify_days.h"

namespace fp::retain {
namespace {

constexpr const char* kLog = "retain";

// The models of dbt's incremental trips lane (dbt_project.yml, trip_lane_models, and the change log itself):
// each records in ops.dbt_watermarks the change-log batch it has applied.
constexpr const char* kLaneModels =
    "{stg_trip_changes,stg_trips,int_fuel_changes,int_trip_days,fct_trips,fct_vehicle_daily,fct_refuels,"
    "fct_fuel_anomalies}";

struct Candidate {
  std::string name, range_start, range_end;
};

Result<std::vector<Candidate>> past_retention(pg::Connection& dw, std::chrono::minutes keep, int limit) {
  auto r =
      FP_TRY(dw.query("SELECT partition_name, range_start::text, range_end::text FROM raw.trip_partitions "
                      "WHERE dropped_at IS NULL AND range_end::timestamp <= now()::timestamp - $1::interval "
                      "ORDER BY range_start LIMIT $2",
                      fmt::format("{} minutes", keep.count()), limit),
             "raw partitions past the retention");
  std::vector<Candidate> out;
  for (int i = 0; i < r.size(); ++i)
    out.push_back({FP_TRY(r.get<std::string>(i, 0), "name"), FP_TRY(r.get<std::string>(i, 1), "start"),
                   FP_TRY(r.get<std::string>(i, 2), "end")});
  return out;
}

// The snapshot xmin of the change-log batch every lane model has applied (the lowest watermark), or nullopt
// while a model of the lane has never been built (no marts to have consumed anything).
Result<std::optional<std::string>> consumed_below(pg::Connection& dw) {
  auto exists = FP_TRY(dw.query("SELECT to_regclass('staging.stg_trip_changes') IS NOT NULL"), "change log");
  if (!FP_TRY(exists.get<bool>(0, 0), "change log")) return std::optional<std::string>();
  auto r =
      FP_TRY(dw.query("SELECT c.batch_xmin::text FROM staging.stg_trip_changes c "
                      "WHERE c.source_id IS NULL AND c.batch_id = (SELECT min(w.batch_id) "
                      "FROM ops.dbt_watermarks w WHERE w.model = ANY($1::text[])) "
                      "AND (SELECT count(*) FROM ops.dbt_watermarks w WHERE w.model = ANY($1::text[])) = "
                      "cardinality($1::text[])",
                      std::string(kLaneModels)),
             "marts' watermark");
  if (r.empty()) return std::optional<std::string>();
  return std::optional<std::string>(FP_TRY(r.get<std::string>(0, 0), "batch xmin"));
}

Result<bool> source_holds_rows(pg::Connection& src, const Candidate& c) {
  auto r =
      FP_TRY(src.query("SELECT EXISTS (SELECT 1 FROM public.trips WHERE measurement_time >= $1::timestamp "
                       "AND measurement_time < $2::timestamp)",
                       c.range_start, c.range_end),
             "source rows");
  return r.get<bool>(0, 0);
}

// Whether the loader has finished every export run up to one whose source snapshot is newer than the
// source's last drop of these days (its warehouse copy, ops.retention_drops): older runs may carry old
// versions of the rows, which must not arrive after the ids leave the map.
Result<bool> runs_caught_up(pg::Connection& dw, const std::string& prefix, const Candidate& c) {
  const int64_t next = FP_TRY(batch::first_unfinished_run(dw, prefix), "load runs");
  auto r =
      FP_TRY(dw.query("SELECT EXISTS (SELECT 1 FROM raw.load_runs r WHERE r.prefix = $1 AND r.run = $2 "
                      "AND r.source_snapshot_at > coalesce((SELECT max(d.dropped_at) "
                      "FROM ops.retention_drops d WHERE d.table_name = 'trips' "
                      "AND d.range_start < $4::timestamp AND d.range_end > $3::timestamp), '-infinity'))",
                      prefix, next - 1, c.range_start, c.range_end),
             "finished load runs");
  return r.get<bool>(0, 0);
}

// Whether the partition's newest write is below `below` (an empty partition is consumed).
Result<bool> consumed(pg::Connection& dw, const Candidate& c, const std::string& below) {
  auto r = FP_TRY(dw.query("SELECT coalesce(max(_load_xid) < $3::xid8, true) FROM raw.trips "
                           "WHERE measurement_time >= $1::date AND measurement_time < $2::date",
                           c.range_start, c.range_end, below),
                  "newest write");
  return r.get<bool>(0, 0);
}

struct DayFigures {
  std::vector<std::string> days, rows, checksums;
  int64_t total = 0;
};

// The partition's live rows per day, as verify's warehouse side counts them.
Result<DayFigures> figures(pg::Connection& dw, const Candidate& c) {
  const auto& trips = *batch::find_table("trips");
  auto r = FP_TRY(dw.query(fmt::format("SELECT measurement_time::date::text, count(*), "
                                       "coalesce(sum(hashtext({})::bigint), 0)::text FROM raw.trips "
                                       "WHERE measurement_time >= $1::date AND measurement_time < $2::date "
                                       "AND _deleted_xid IS NULL GROUP BY 1 ORDER BY 1",
                                       batch::canonical_row_text(trips)),
                           c.range_start, c.range_end),
                  "count and checksum");
  DayFigures f;
  for (int i = 0; i < r.size(); ++i) {
    f.days.push_back(FP_TRY(r.get<std::string>(i, 0), "day"));
    const int64_t n = FP_TRY(r.get<int64_t>(i, 1), "rows");
    f.rows.push_back(std::to_string(n));
    f.checksums.push_back(FP_TRY(r.get<std::string>(i, 2), "checksum"));
    f.total += n;
  }
  return f;
}

Result<RawPartitionOutcome> settle(pg::Connection& src, pg::Connection& dw, const Candidate& c,
                                   const std::optional<std::string>& below, const RawDaysOptions& opts) {
  RawPartitionOutcome o{c.name, c.range_start, c.range_end, 0, false, {}};
  RawPartitionFacts f;
  f.source_holds_rows = FP_TRY(source_holds_rows(src, c), c.name);
  f.runs_caught_up = FP_TRY(runs_caught_up(dw, opts.prefix, c), c.name);
  f.marts_built = below.has_value();
  f.consumed = below && FP_TRY(consumed(dw, c, *below), c.name);
  o.reason = raw_keep_reason(f);
  if (!o.reason.empty()) return o;
  // Taken before the figures are read: a write the read cannot see has a newer xid.
  auto snap = FP_TRY(dw.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"), "snapshot");
  const std::string since = FP_TRY(snap.get<std::string>(0, 0), "xmin");
  const DayFigures fig = FP_TRY(figures(dw, c), c.name);
  o.rows = fig.total;
  if (opts.dry_run) {
    o.reason = "dry run: would drop";
    return o;
  }
  auto dropped = dw.query(
      "SELECT raw.trip_partition_drop($1, $2::xid8, $3::xid8, $4::date[], $5::bigint[], "
      "$6::numeric[])",
      c.name, since, *below, pg::array_param(fig.days), pg::array_param(fig.rows),
      pg::array_param(fig.checksums));
  if (!dropped) {
    // Loads kept raw.trips busy for the function's lock_timeout: next run.
    if (!pg::is_lock_not_available(dropped.error()))
      return std::move(dropped).error().context("drop " + c.name);
    o.reason = "raw.trips stayed busy (lock timeout); next run";
    return o;
  }
  const auto answer = FP_TRY(dropped->get<std::string>(0, 0), "drop");
  if (answer != "dropped") {
    o.reason = answer;
    return o;
  }
  o.dropped = true;
  log::emit(log::Level::kInfo, kLog, "raw partition dropped: the marts hold every row and the source none",
            {{"partition", c.name},
             {"range_start", c.range_start},
             {"range_end", c.range_end},
             {"rows", fig.total},
             {"days", fig.days.size()}});
  return o;
}

}  // namespace

std::string raw_keep_reason(const RawPartitionFacts& f) {
  if (f.source_holds_rows) return "the source still holds rows of these days (hot window)";
  if (!f.runs_caught_up) return "export runs older than the source's drop of these days are not all loaded";
  if (!f.marts_built) return "the incremental marts have not been built";
  if (!f.consumed) return "the marts have not consumed every row yet";
  return "";
}

Result<std::vector<RawPartitionOutcome>> retain_raw_days(pg::Connection& src, pg::Connection& dw,
                                                         const LifecycleConfig& lc,
                                                         const RawDaysOptions& opts) {
  std::vector<RawPartitionOutcome> out;
  if (!lc.warehouse_raw_retention) return out;
  const auto candidates = FP_TRY(past_retention(dw, *lc.warehouse_raw_retention, opts.max_partitions), "raw");
  if (candidates.empty()) return out;
  const auto below = FP_TRY(consumed_below(dw), "raw");
  for (const auto& c : candidates) out.push_back(FP_TRY(settle(src, dw, c, below, opts), "raw"));
  return out;
}

}  // namespace fp::retain
