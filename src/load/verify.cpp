#include "load/verify.h"

#include <map>

#include "common/batch/layout.h"
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

pg::ConnectOptions verify_options() {
  pg::ConnectOptions o;
  o.statement_timeout = std::chrono::minutes(30);
  o.settings = {{"TimeZone", "UTC"},
                {"DateStyle", "ISO, YMD"},
                {"extra_float_digits", "1"},
                {"application_name", "fleetpipe verify"}};
  return o;
}

}  // namespace

Result<std::vector<VerifyLine>> run_verify(const Config& cfg, const VerifyOptions& opts) {
  s3::Client s3(cfg.s3);
  auto src = FP_TRY(pg::Connection::connect(cfg.webapp, verify_options()), "connect webapp");
  auto dw = FP_TRY(pg::Connection::connect(cfg.warehouse, verify_options()), "connect warehouse");
  std::vector<VerifyLine> out;

  auto state = FP_TRY(read_manifest_state(s3, opts.prefix), "manifests");
  uint64_t watermark = 0;
  std::map<std::string, int64_t> manifest_rows;
  std::map<std::string, std::pair<std::string, int64_t>> manifest_objects;  // key -> table, rows
  for (int64_t run : state.committed_runs) {
    auto m = FP_TRY(read_manifest(s3, opts.prefix, run), "manifest");
    watermark = std::max(watermark, m.range.xid_to);
    for (const auto& o : m.objects) {
      manifest_rows[o.table] += o.rows;
      manifest_objects[o.key] = {o.table, o.rows};
    }
  }

  // bucket -> warehouse: every manifest object loaded with its row count.
  auto loaded =
      FP_TRY(dw.query("SELECT object_key, row_count FROM raw.load_manifest WHERE starts_with(object_key, $1)",
                      opts.prefix),
             "load manifest");
  std::map<std::string, int64_t> loaded_rows;
  for (int r = 0; r < loaded.size(); ++r)
    loaded_rows[FP_TRY(loaded.get<std::string>(r, 0), "key")] = FP_TRY(loaded.get<int64_t>(r, 1), "rows");

  for (const auto& t : tables()) {
    const std::string name(t.name);
    // source -> bucket
    auto c =
        FP_TRY(src.query(fmt::format("SELECT count(*) FROM public.{} WHERE _export_xid < $1::xid8", t.name),
                         std::to_string(watermark)),
               "source count");
    const int64_t source_rows = FP_TRY(c.get<int64_t>(0, 0), "count");
    const int64_t bucket_rows = manifest_rows[name];
    // A row updated in the source is exported again, so the bucket holds every version: at least one per
    // source row. Trips are append-only in fleetpipe's own writers, but an operator's correction (pgAdmin,
    // psql) is a new version too. Lost and doubled rows are caught end to end by source->warehouse below.
    const bool counts_ok = bucket_rows >= source_rows;
    out.push_back({counts_ok, "source->bucket", name,
                   fmt::format("source rows {} (xid < {}), bucket rows {} in {} runs", source_rows, watermark,
                               bucket_rows, state.committed_runs.size())});

    int64_t objects = 0, missing = 0, wrong = 0;
    for (const auto& [key, v] : manifest_objects) {
      if (v.first != name) continue;
      ++objects;
      auto it = loaded_rows.find(key);
      if (it == loaded_rows.end())
        ++missing;
      else if (it->second != v.second)
        ++wrong;
    }
    out.push_back({missing == 0 && wrong == 0, "bucket->warehouse", name,
                   fmt::format("{} objects: {} loaded, {} not loaded, {} with a different row count", objects,
                               objects - missing - wrong, missing, wrong)});

    auto s = FP_TRY(per_day(src, t, fmt::format("public.{} WHERE _export_xid < $1::xid8", t.name),
                            {std::to_string(watermark)}),
                    "source");
    auto w = FP_TRY(per_day(dw, t, fmt::format("raw.{}", t.name), {}), "warehouse");
    int64_t srows = 0, wrows = 0;
    std::vector<std::string> bad;
    for (const auto& [day, st] : s) srows += st.rows;
    for (const auto& [day, st] : w) wrows += st.rows;
    std::map<std::string, int> days;
    for (const auto& [day, st] : s) days[day] |= 1;
    for (const auto& [day, st] : w) days[day] |= 2;
    for (const auto& [day, _] : days) {
      auto a = s.find(day), b = w.find(day);
      if (a == s.end() || b == w.end() || a->second.rows != b->second.rows ||
          a->second.checksum != b->second.checksum)
        bad.push_back(fmt::format("{} (source {} rows, warehouse {} rows)", day,
                                  a == s.end() ? 0 : a->second.rows, b == w.end() ? 0 : b->second.rows));
    }
    std::string detail = fmt::format("{} days, source rows {}, warehouse rows {}", days.size(), srows, wrows);
    if (!bad.empty()) {
      detail += fmt::format("; {} days differ:", bad.size());
      for (size_t i = 0; i < bad.size() && i < 5; ++i) detail += " " + bad[i];
    } else {
      detail += ", checksums equal";
    }
    out.push_back({bad.empty(), "source->warehouse", name, detail});
  }
  return out;
}

}  // namespace fp::batch
