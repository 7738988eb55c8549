#include "load/verify.h"

#include <map>

#include "common/batch/layout.h"
#include "common/batch/session.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"

namespace fp::batch {
namespace {

struct DayStats {
  int64_t rows = 0;
  std::string checksum;
};
using PerDay = std::map<std::string, DayStats>;

// The canonical text of a row: the spec's columns in order, '|'-separated, in the session's UTC/ISO text
// forms. Both databases run the same PostgreSQL, so the same values give the same text and hashtext.
std::string canonical(const TableSpec& t) {
  std::string s = "concat_ws('|'";
  for (const auto& c : t.columns) s += fmt::format(", {}", c.name);
  return s + ")";
}

Result<PerDay> per_day(pg::Connection& conn, const TableSpec& t, const std::string& from_where,
                       const pg::Params& params) {
  auto rows = FP_TRY(conn.query_params(fmt::format("SELECT ({0})::date::text AS day, count(*), "
                                                   "coalesce(sum(hashtext({1})::bigint), 0)::text "
                                                   "FROM {2} GROUP BY 1",
                                                   t.date_column, canonical(t), from_where),
                                       params),
                     fmt::format("checksum {}", t.name));
  PerDay out;
  for (int r = 0; r < rows.size(); ++r)
    out[FP_TRY(rows.get<std::string>(r, 0), "day")] = {FP_TRY(rows.get<int64_t>(r, 1), "count"),
                                                       FP_TRY(rows.get<std::string>(r, 2), "sum")};
  return out;
}

// What the committed manifests hold: the watermark (the newest run's xid_to), the rows per table and every
// object with its table and row count.
struct CommittedRuns {
  size_t runs = 0;
  uint64_t watermark = 0;
  std::map<std::string, int64_t> rows;                             // table -> rows
  std::map<std::string, std::pair<std::string, int64_t>> objects;  // key -> table, rows
};

Result<CommittedRuns> read_committed_runs(s3::Client& s3, const std::string& prefix) {
  // Spelled out, not FP_TRY: GCC 12 takes the macro's temporary here for a stack object freed on the heap
  // (a false -Wfree-nonheap-object).
  auto state = read_manifest_state(s3, prefix);
  if (!state) return std::move(state).error().context("manifests");
  CommittedRuns c;
  c.runs = state->committed_runs.size();
  for (int64_t run : state->committed_runs) {
    auto m = FP_TRY(read_manifest(s3, prefix, run), "manifest");
    c.watermark = std::max(c.watermark, m.range.xid_to);
    for (const auto& o : m.objects) {
      c.rows[o.table] += o.rows;
      c.objects[o.key] = {o.table, o.rows};
    }
  }
  return c;
}

// The warehouse's raw.load_manifest: object key -> rows loaded.
Result<std::map<std::string, int64_t>> loaded_objects(pg::Connection& dw, const std::string& prefix) {
  auto loaded =
      FP_TRY(dw.query("SELECT object_key, row_count FROM raw.load_manifest WHERE starts_with(object_key, $1)",
                      prefix),
             "load manifest");
  std::map<std::string, int64_t> loaded_rows;
  for (int r = 0; r < loaded.size(); ++r)
    loaded_rows[FP_TRY(loaded.get<std::string>(r, 0), "key")] = FP_TRY(loaded.get<int64_t>(r, 1), "rows");
  return loaded_rows;
}

// source -> bucket: the manifests hold at least one version of every source row below the watermark.
Result<VerifyLine> source_to_bucket(pg::Connection& src, const TableSpec& t, const CommittedRuns& c) {
  const std::string name(t.name);
  auto count =
      FP_TRY(src.query(fmt::format("SELECT count(*) FROM public.{} WHERE _export_xid < $1::xid8", t.name),
                       std::to_string(c.watermark)),
             "source count");
  const int64_t source_rows = FP_TRY(count.get<int64_t>(0, 0), "count");
  const auto in_bucket = c.rows.find(name);
  const int64_t bucket_rows = in_bucket == c.rows.end() ? 0 : in_bucket->second;
  // A row updated in the source is exported again, so the bucket holds every version: at least one per
  // source row. Trips are append-only in fleetpipe's own writers, but an operator's correction (pgAdmin,
  // psql) is a new version too. Lost and doubled rows are caught end to end by source->warehouse below.
  const bool counts_ok = bucket_rows >= source_rows;
  return VerifyLine{counts_ok, "source->bucket", name,
                    fmt::format("source rows {} (xid < {}), bucket rows {} in {} runs", source_rows,
                                c.watermark, bucket_rows, c.runs)};
}

// bucket -> warehouse: every manifest object of the table is loaded, with its row count.
VerifyLine bucket_to_warehouse(const TableSpec& t, const CommittedRuns& c,
                               const std::map<std::string, int64_t>& loaded_rows) {
  const std::string name(t.name);
  int64_t objects = 0, missing = 0, wrong = 0;
  for (const auto& [key, v] : c.objects) {
    if (v.first != name) continue;
    ++objects;
    auto it = loaded_rows.find(key);
    if (it == loaded_rows.end())
      ++missing;
    else if (it->second != v.second)
      ++wrong;
  }
  return VerifyLine{missing == 0 && wrong == 0, "bucket->warehouse", name,
                    fmt::format("{} objects: {} loaded, {} not loaded, {} with a different row count",
                                objects, objects - missing - wrong, missing, wrong)};
}

// The days either side has, and those whose row count or checksum differ (or that one side lacks).
struct DayComparison {
  size_t days = 0;
  std::vector<std::string> differing;
};

DayComparison compare_days(const PerDay& s, const PerDay& w) {
  std::map<std::string, int> days;
  for (const auto& [day, st] : s) days[day] |= 1;
  for (const auto& [day, st] : w) days[day] |= 2;
  DayComparison out{days.size(), {}};
  for (const auto& [day, _] : days) {
    auto a = s.find(day), b = w.find(day);
    if (a == s.end() || b == w.end() || a->second.rows != b->second.rows ||
        a->second.checksum != b->second.checksum)
      out.differing.push_back(fmt::format("{} (source {} rows, warehouse {} rows)", day,
                                          a == s.end() ? 0 : a->second.rows,
                                          b == w.end() ? 0 : b->second.rows));
  }
  return out;
}

// source -> warehouse: per day, the row count and the checksum of the canonical rows on both sides.
Result<VerifyLine> source_to_warehouse(pg::Connection& src, pg::Connection& dw, const TableSpec& t,
                                       uint64_t watermark) {
  auto s = FP_TRY(per_day(src, t, fmt::format("public.{} WHERE _export_xid < $1::xid8", t.name),
                          {std::to_string(watermark)}),
                  "source");
  auto w = FP_TRY(per_day(dw, t, fmt::format("raw.{}", t.name), {}), "warehouse");
  int64_t srows = 0, wrows = 0;
  for (const auto& [day, st] : s) srows += st.rows;
  for (const auto& [day, st] : w) wrows += st.rows;
  const DayComparison days = compare_days(s, w);
  const std::vector<std::string>& bad = days.differing;
  std::string detail = fmt::format("{} days, source rows {}, warehouse rows {}", days.days, srows, wrows);
  if (!bad.empty()) {
    detail += fmt::format("; {} days differ:", bad.size());
    for (size_t i = 0; i < bad.size() && i < 5; ++i) detail += " " + bad[i];
  } else {
    detail += ", checksums equal";
  }
  return VerifyLine{bad.empty(), "source->warehouse", std::string(t.name), detail};
}

}  // namespace

Result<std::vector<VerifyLine>> run_verify(const Config& cfg, const VerifyOptions& opts) {
  s3::Client s3(cfg.s3);
  const auto session = text_stable_session("fleetpipe verify", std::chrono::minutes(30));
  auto src = FP_TRY(pg::Connection::connect(cfg.webapp, session), "connect webapp");
  auto dw = FP_TRY(pg::Connection::connect(cfg.warehouse, session), "connect warehouse");
  auto committed = read_committed_runs(s3, opts.prefix);
  if (!committed) return std::move(committed).error();
  auto loaded_rows = loaded_objects(dw, opts.prefix);
  if (!loaded_rows) return std::move(loaded_rows).error();

  std::vector<VerifyLine> out;
  for (const auto& t : tables()) {
    auto counts = source_to_bucket(src, t, *committed);
    if (!counts) return std::move(counts).error();
    out.push_back(std::move(*counts));
    out.push_back(bucket_to_warehouse(t, *committed, *loaded_rows));
    auto days = source_to_warehouse(src, dw, t, committed->watermark);
    if (!days) return std::move(days).error();
    out.push_back(std::move(*days));
  }
  return out;
}

}  // namespace fp::batch
