#include "load/verify_days.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/log.h"

namespace fp::batch {

// Both databases run the same PostgreSQL, so the same values give the same text and hashtext.
std::string canonical_row_text(const TableSpec& t) {
  std::string s = "concat_ws('|'";
  for (const auto& c : t.columns) s += fmt::format(", {}", c.name);
  return s + ")";
}

namespace {

constexpr size_t kExplained = 3;  // differing days explained id by id (each costs a read of that day)

struct DayStats {
  int64_t rows = 0;
  std::string checksum = "0";
};
using PerDay = std::map<std::string, DayStats>;
using Days = std::set<std::string>;  // ISO dates

// The rows one side compares. Source: below the watermark ($1). Warehouse: live (not deleted) and not an
// id the source changed since the watermark ($1, bigint[]): a hash anti-join, however long the list.
std::string source_rows(const TableSpec& t) {
  return fmt::format("SELECT * FROM public.{} WHERE _export_xid < $1::xid8", t.name);
}
std::string warehouse_rows(const TableSpec& t) {
  return fmt::format(
      "SELECT * FROM raw.{} r WHERE _deleted_xid IS NULL AND NOT EXISTS "
      "(SELECT 1 FROM unnest($1::bigint[]) AS u(id) WHERE u.id = r.id)",
      t.name);
}

// The figures of the partitions `fleetpipe retain` dropped (trips, retain/hot_window.h): rows no longer in
// the source that were, as the drop's own comparison with the warehouse counted them. The source side adds
// them to its days; $2 (when `days`) restricts them as it does the rows.
std::string retired_per_day(const TableSpec& t, bool days) {
  if (t.name != "trips") return "";
  return fmt::format(
      " UNION ALL SELECT range_start::date::text, dropped_rows, dropped_checksum FROM public.trip_partitions "
      "WHERE dropped_at IS NOT NULL{}",
      days ? " AND range_start::date = ANY($2::date[])" : "");
}

// The figures of raw.trips' day partitions `fleetpipe retain` dropped (retain/raw_days.h): the live rows
// they held, which the warehouse side adds to its days as the source side adds its own drops.
std::string warehouse_retired_per_day(const TableSpec& t, bool days) {
  if (t.name != "trips") return "";
  return fmt::format(" UNION ALL SELECT day::text, rows, checksum FROM ops.raw_trip_drops{}",
                     days ? " WHERE day = ANY($2::date[])" : "");
}

// Row count and checksum per day of `rows` ($1 = `param`); only `days` when given, each read as a range of
// the date column (an index range scan on both sides), not by scanning the table. `retired`: figures of
// dropped partitions to add (retired_per_day), or "".
Result<PerDay> per_day(pg::Connection& conn, const TableSpec& t, const std::string& rows,
                       const std::string& param, const std::vector<std::string>* days,
                       const std::string& retired = "") {
  std::string sql = fmt::format(
      "SELECT ({0})::date::text AS day, count(*) AS n, coalesce(sum(hashtext({1})::bigint), 0) AS s "
      "FROM ({2}) x",
      t.date_column, canonical_row_text(t), rows);
  pg::Params params{param};
  if (days) {
    sql += fmt::format(" JOIN unnest($2::date[]) AS d(day) ON x.{0} >= d.day AND x.{0} < d.day + 1",
                       t.date_column);
    params.push_back(pg::array_param(*days));
  }
  sql = fmt::format("SELECT day, sum(n)::bigint, sum(s)::text FROM ({} GROUP BY 1{}) u GROUP BY 1", sql,
                    retired);
  auto r = FP_TRY(conn.query_params(sql, params), fmt::format("checksum {}", t.name));
  PerDay out;
  for (int i = 0; i < r.size(); ++i)
    out[FP_TRY(r.get<std::string>(i, 0), "day")] = {FP_TRY(r.get<int64_t>(i, 1), "count"),
                                                    FP_TRY(r.get<std::string>(i, 2), "sum")};
  return out;
}

// id -> hashtext of the canonical row, for one day.
Result<std::map<int64_t, int64_t>> day_rows(pg::Connection& conn, const TableSpec& t, const std::string& rows,
                                            const std::string& param, const std::string& day) {
  auto r = FP_TRY(conn.query(fmt::format("SELECT id, hashtext({0}) FROM ({1}) x "
                                         "WHERE x.{2} >= $2::date AND x.{2} < $2::date + 1",
                                         canonical_row_text(t), rows, t.date_column),
                             param, day),
                  fmt::format("rows of {} on {}", t.name, day));
  std::map<int64_t, int64_t> out;
  for (int i = 0; i < r.size(); ++i)
    out[FP_TRY(r.get<int64_t>(i, 0), "id")] = FP_TRY(r.get<int64_t>(i, 1), "hash");
  return out;
}

// The ids the source wrote or deleted since the watermark that the warehouse may hold: their state there
// is the previous run's, so both sides leave them out. What is new since the last export, not the history.
Result<std::string> unsettled_ids(pg::Connection& src, pg::Connection& dw, const TableSpec& t, uint64_t wm) {
  // raw.trips' ids are all in its id map, one index (the table has one per day partition).
  auto max_id = FP_TRY(dw.query(fmt::format("SELECT coalesce(max(id), 0) FROM raw.{}",
                                            t.name == "trips" ? "trip_ids" : t.name)),
                       "max id");
  const int64_t top = FP_TRY(max_id.get<int64_t>(0, 0), "max id");
  auto r =
      FP_TRY(src.query(fmt::format("SELECT coalesce(array_agg(id), '{{}}')::text FROM ("
                                   "SELECT id FROM public.{0} WHERE _export_xid >= $1::xid8 AND id <= $2 "
                                   "UNION SELECT id FROM public.export_deletes WHERE table_name = '{0}' "
                                   "AND _export_xid >= $1::xid8) x",
                                   t.name),
                       std::to_string(wm), top),
             "ids changed since the watermark");
  return std::string(FP_TRY(r.get<std::string>(0, 0), "ids"));
}

// What an earlier check kept for this prefix and table (no checkpoint: nothing usable).
struct Kept {
  std::optional<int64_t> source_watermark, warehouse_xmin;
  std::string checked_at;
  PerDay source, warehouse;
};

Result<Kept> read_kept(pg::Connection& dw, const std::string& prefix, const std::string& table) {
  Kept k;
  auto cp = FP_TRY(dw.query("SELECT source_watermark::text::bigint, warehouse_xmin::text::bigint, "
                            "date_trunc('second', checked_at)::text FROM ops.verify_checkpoints "
                            "WHERE prefix = $1 AND table_name = $2",
                            prefix, table),
                   "verify checkpoint");
  if (cp.empty()) return k;
  k.source_watermark = FP_TRY(cp.get<int64_t>(0, 0), "source_watermark");
  k.warehouse_xmin = FP_TRY(cp.get<int64_t>(0, 1), "warehouse_xmin");
  k.checked_at = FP_TRY(cp.get<std::string>(0, 2), "checked_at");
  auto r =
      FP_TRY(dw.query("SELECT day::text, source_rows, source_sum::text, warehouse_rows, warehouse_sum::text "
                      "FROM ops.verify_days WHERE prefix = $1 AND table_name = $2",
                      prefix, table),
             "verify days");
  for (int i = 0; i < r.size(); ++i) {
    const auto day = FP_TRY(r.get<std::string>(i, 0), "day");
    k.source[day] = {FP_TRY(r.get<int64_t>(i, 1), "source_rows"),
                     FP_TRY(r.get<std::string>(i, 2), "source_sum")};
    k.warehouse[day] = {FP_TRY(r.get<int64_t>(i, 3), "warehouse_rows"),
                        FP_TRY(r.get<std::string>(i, 4), "warehouse_sum")};
  }
  return k;
}

Status add_days(pg::Connection& conn, const std::string& sql, const pg::Params& params, Days& days) {
  auto r = FP_TRY(conn.query_params(sql, params), "changed days");
  for (int i = 0; i < r.size(); ++i) days.insert(FP_TRY(r.get<std::string>(i, 0), "day"));
  return ok_status();
}

// The days that can have changed on either side since the kept checkpoint (verify_days.h lists why);
// nullopt when every day can have (a TRUNCATE of the raw table since).
Result<std::optional<Days>> days_to_read(pg::Connection& src, pg::Connection& dw, const TableSpec& t,
                                         const std::string& prefix, const Kept& kept, uint64_t watermark,
                                         const std::string& unsettled) {
  const int64_t since = std::min(*kept.source_watermark, static_cast<int64_t>(watermark));
  const auto dc = t.date_column;
  Days days;
  FP_CHECK(add_days(src,
                    fmt::format("SELECT ({1})::date::text FROM public.{0} WHERE _export_xid >= $1::xid8 "
                                "UNION SELECT day::text FROM public.export_deletes "
                                "WHERE table_name = '{0}' AND _export_xid >= $1::xid8{2}",
                                t.name, dc,
                                // a partition dropped since: its day's rows moved from live to retired
                                t.name == "trips" ? " UNION SELECT range_start::date::text FROM "
                                                    "public.trip_partitions WHERE dropped_xid >= $1::xid8"
                                                  : ""),
                    {std::to_string(since)}, days),
           "source");
  // Inserted rows carry the inserting transaction in _load_xid; updated, deleted and truncated ones are
  // logged by the raw tables' statement triggers (sql/warehouse/008_verify_days.sql), NULL for every day.
  FP_CHECK(add_days(dw,
                    fmt::format(
                        "SELECT ({1})::date::text FROM raw.{0} WHERE _load_xid >= $1::xid8 "
                        "AND {1} IS NOT NULL "
                        "UNION SELECT coalesce(day::text, '*') FROM ops.raw_changed_days "
                        "WHERE table_name = $4 AND xid >= $1::xid8 "
                        "UNION SELECT ({1})::date::text FROM raw.{0} "
                        "WHERE id = ANY($2::bigint[]) AND {1} IS NOT NULL "
                        "UNION SELECT day::text FROM ops.verify_days WHERE prefix = $3 AND table_name = $4 "
                        "AND (source_rows, source_sum) IS DISTINCT FROM (warehouse_rows, warehouse_sum){2}",
                        t.name, dc,
                        // a raw partition dropped since: its days' rows moved from live to retired
                        t.name == "trips" ? " UNION SELECT day::text FROM ops.raw_trip_drops "
                                            "WHERE dropped_xid >= $1::xid8"
                                          : ""),
                    {std::to_string(*kept.warehouse_xmin), unsettled, prefix, std::string(t.name)}, days),
           "warehouse");
  if (days.contains("*")) return std::optional<Days>();
  return std::optional<Days>(std::move(days));
}

// Keeps the figures of the days read (all of them when `read` is null) and the positions they were read at.
Status keep(pg::Connection& dw, const std::string& prefix, const TableSpec& t, const Days* read,
            const PerDay& s, const PerDay& w, uint64_t watermark, const std::string& xmin) {
  Days days;
  if (read) {
    days = *read;
  } else {
    for (const auto& [d, _] : s) days.insert(d);
    for (const auto& [d, _] : w) days.insert(d);
  }
  std::vector<std::string> day, s_rows, s_sum, w_rows, w_sum;
  for (const auto& d : days) {
    const auto a = s.find(d), b = w.find(d);
    const DayStats x = a == s.end() ? DayStats{} : a->second, y = b == w.end() ? DayStats{} : b->second;
    if (x.rows == 0 && y.rows == 0) continue;  // gone from both sides: nothing to keep
    day.push_back(d);
    s_rows.push_back(std::to_string(x.rows));
    s_sum.push_back(x.checksum);
    w_rows.push_back(std::to_string(y.rows));
    w_sum.push_back(y.checksum);
  }
  const std::string table(t.name);
  auto tx = FP_TRY(dw.begin(), "begin");
  if (read)
    FP_CHECK(
        dw.query(
            "DELETE FROM ops.verify_days WHERE prefix = $1 AND table_name = $2 AND day = ANY($3::date[])",
            prefix, table, pg::array_param(days)),
        "forget days");
  else
    FP_CHECK(dw.query("DELETE FROM ops.verify_days WHERE prefix = $1 AND table_name = $2", prefix, table),
             "forget days");
  FP_CHECK(dw.query("INSERT INTO ops.verify_days (prefix, table_name, day, source_rows, source_sum, "
                    "warehouse_rows, warehouse_sum) SELECT $1, $2, * FROM unnest($3::date[], $4::bigint[], "
                    "$5::numeric[], $6::bigint[], $7::numeric[])",
                    prefix, table, pg::array_param(day), pg::array_param(s_rows), pg::array_param(s_sum),
                    pg::array_param(w_rows), pg::array_param(w_sum)),
           "keep days");
  FP_CHECK(
      dw.query("INSERT INTO ops.verify_checkpoints (prefix, table_name, source_watermark, warehouse_xmin) "
               "VALUES ($1, $2, $3::xid8, $4::xid8) ON CONFLICT (prefix, table_name) DO UPDATE SET "
               "source_watermark = excluded.source_watermark, warehouse_xmin = excluded.warehouse_xmin, "
               "checked_at = now()",
               prefix, table, std::to_string(watermark), xmin),
      "keep checkpoint");
  FP_CHECK(dw.query("DELETE FROM ops.raw_changed_days WHERE table_name = $1 AND xid < "
                    "(SELECT min(warehouse_xmin) FROM ops.verify_checkpoints WHERE table_name = $1)",
                    table),
           "prune changed days");
  return tx.commit();
}

// The days either side has, and those whose row count or checksum differ (or that one side lacks).
struct DayComparison {
  size_t days = 0;
  int64_t source_rows = 0, warehouse_rows = 0;
  std::vector<std::string> differing;
};

DayComparison compare_days(const PerDay& s, const PerDay& w) {
  std::map<std::string, int> days;
  for (const auto& [day, st] : s) days[day] |= 1;
  for (const auto& [day, st] : w) days[day] |= 2;
  DayComparison out{days.size(), 0, 0, {}};
  for (const auto& [day, st] : s) out.source_rows += st.rows;
  for (const auto& [day, st] : w) out.warehouse_rows += st.rows;
  for (const auto& [day, _] : days) {
    auto a = s.find(day), b = w.find(day);
    if (a == s.end() || b == w.end() || a->second.rows != b->second.rows ||
        a->second.checksum != b->second.checksum)
      out.differing.push_back(day);
  }
  return out;
}

// For one differing day: the ids only the source has, only the warehouse has, or both with other values.
Result<std::string> explain_day(pg::Connection& src, pg::Connection& dw, const TableSpec& t, uint64_t wm,
                                const std::string& unsettled, const std::string& day) {
  auto a = FP_TRY(day_rows(src, t, source_rows(t), std::to_string(wm), day), "source");
  auto b = FP_TRY(day_rows(dw, t, warehouse_rows(t), unsettled, day), "warehouse");
  std::vector<std::string> ids;
  for (const auto& [id, h] : a) {
    auto it = b.find(id);
    if (it == b.end())
      ids.push_back(fmt::format("{} missing", id));
    else if (it->second != h)
      ids.push_back(fmt::format("{} differs", id));
  }
  for (const auto& [id, h] : b)
    if (!a.contains(id)) ids.push_back(fmt::format("{} extra", id));
  return fmt::format("{} (source {} rows, warehouse {} rows: ids {})", day, a.size(), b.size(),
                     first_few(ids));
}

void merge(PerDay& into, PerDay&& read) {
  for (auto& [day, st] : read) into[day] = std::move(st);
}

}  // namespace

Result<VerifyLine> source_to_warehouse(pg::Connection& src, pg::Connection& dw, const TableSpec& t,
                                       uint64_t watermark, const DayCheckOptions& opts) {
  const std::string table(t.name);
  // Taken before anything is read: a warehouse write this check cannot see has a newer xid.
  auto snap = FP_TRY(dw.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"), "warehouse xmin");
  const std::string xmin = FP_TRY(snap.get<std::string>(0, 0), "xmin");
  const std::string unsettled = FP_TRY(unsettled_ids(src, dw, t, watermark), "unsettled");
  Kept kept;
  if (!opts.reread_all_days) kept = FP_TRY(read_kept(dw, opts.prefix, table), "kept checksums");

  PerDay s, w;
  std::optional<Days> read;  // nullopt: every day read
  if (kept.source_watermark)
    read = FP_TRY(days_to_read(src, dw, t, opts.prefix, kept, watermark, unsettled), "days to read");
  if (read) {
    s = std::move(kept.source);
    w = std::move(kept.warehouse);
    for (const auto& d : *read) {
      s.erase(d);
      w.erase(d);
    }
    if (!read->empty()) {
      const std::vector<std::string> days(read->begin(), read->end());
      merge(s, FP_TRY(per_day(src, t, source_rows(t), std::to_string(watermark), &days,
                              retired_per_day(t, true)),
                      "source"));
      merge(w, FP_TRY(per_day(dw, t, warehouse_rows(t), unsettled, &days, warehouse_retired_per_day(t, true)),
                      "warehouse"));
    }
  } else {
    s = FP_TRY(per_day(src, t, source_rows(t), std::to_string(watermark), nullptr, retired_per_day(t, false)),
               "source");
    w = FP_TRY(per_day(dw, t, warehouse_rows(t), unsettled, nullptr, warehouse_retired_per_day(t, false)),
               "warehouse");
  }
  // Not keeping them costs the next check time, not correctness: it reads from the older checkpoint.
  if (auto st = keep(dw, opts.prefix, t, read ? &*read : nullptr, s, w, watermark, xmin); !st)
    log::warn("verify", "per-day checksums of {} not kept: {}", table, st.error().message);

  const DayComparison days = compare_days(s, w);
  std::string detail = read ? fmt::format("{} days ({} read, the rest as checked at {})", days.days,
                                          read->size(), kept.checked_at)
                            : fmt::format("{} days (all read)", days.days);
  detail += fmt::format(", source rows {}, warehouse rows {}", days.source_rows, days.warehouse_rows);
  if (days.differing.empty()) {
    detail += ", checksums equal";
  } else {
    detail += fmt::format("; {} days differ:", days.differing.size());
    for (size_t i = 0; i < days.differing.size() && i < kExplained; ++i)
      detail += " " + FP_TRY(explain_day(src, dw, t, watermark, unsettled, days.differing[i]), "explain");
    if (days.differing.size() > kExplained) detail += " ...";
  }
  return VerifyLine{days.differing.empty(), "source->warehouse", table, detail};
}

}  // namespace fp::batch
