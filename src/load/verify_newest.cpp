#include "load/verify_newest.h"

#include <algorithm>
#include <vector>

#include "common/batch/codec.h"
#include "common/pg/params.h"
#include "load/ndjson_lines.h"
#include "load/ndjson_row.h"

namespace fp::batch {
namespace {

constexpr size_t kMaxLineBytes = 64 * 1024;  // the loader's default limit: a longer line is not a row
constexpr size_t kShownIds = 5;

// The ids of one row object, in file order. Bounded as the loader is: gunzip in pieces, no line longer than
// kMaxLineBytes, no more lines than the manifest's row count; every line must be a valid row of the table.
class ObjectIds {
 public:
  ObjectIds(const TableSpec& t, const ObjectEntry& o, const RunRange& range)
      : parser_(t), object_(o), lines_(kMaxLineBytes) {
    parser_.require_xid_range(range.xid_from, range.xid_to);
    // trips' rows may have left the source with their partition (`fleetpipe retain`): keep each row's time
    // to tell those from rows the source never had.
    if (t.name == "trips")
      for (size_t i = 0; i < t.columns.size(); ++i)
        if (t.columns[i].name == t.date_column) time_field_ = static_cast<int>(i);
  }

  Status read(s3::Client& s3) {
    const NdjsonLines::OnLine take = [this](std::string_view line, size_t readable, int64_t line_no) {
      return take_row(line, readable, line_no);
    };
    Status failed = ok_status();
    auto st = s3.get_object(object_.key, [&](const char* data, size_t len) {
      failed = gunzip_.write(std::string_view(data, len),
                             [&](std::string_view piece) { return lines_.add(piece, take); });
      return failed.ok();
    });
    FP_CHECK(failed, object_.key);
    FP_CHECK(st, fmt::format("read {}", object_.key));
    FP_CHECK(gunzip_.finish(), object_.key);
    FP_CHECK(lines_.finish(take), object_.key);
    if (static_cast<int64_t>(ids_.size()) != object_.rows)
      return invalid_input("{}: {} rows, its manifest says {}", object_.key, ids_.size(), object_.rows);
    return ok_status();
  }

  std::vector<int64_t>& ids() { return ids_; }
  // Each id's row time (same order), or empty when the table has no partitions to drop.
  std::vector<std::string>& times() { return times_; }

 private:
  Status take_row(std::string_view line, size_t readable, int64_t line_no) {
    if (static_cast<int64_t>(ids_.size()) >= object_.rows)
      return invalid_input("more rows than the manifest's {} (line {})", object_.rows, line_no);
    row_.clear();
    if (auto st = parser_.parse(line, readable, row_); !st)
      return std::move(st).error().context(fmt::format("line {}", line_no));
    // The COPY row's first field is the id (TableSpec: `id` first), a validated bigint.
    ids_.push_back(std::stoll(row_.substr(0, row_.find('\t'))));
    if (time_field_ >= 0) {
      size_t from = 0;
      for (int f = 0; f < time_field_; ++f) from = row_.find('\t', from) + 1;  // COPY text escapes tabs
      times_.push_back(row_.substr(from, row_.find('\t', from) - from));
    }
    return ok_status();
  }

  NdjsonRowParser parser_;
  const ObjectEntry& object_;
  GunzipReader gunzip_;
  NdjsonLines lines_;
  std::string row_;
  std::vector<int64_t> ids_;
  std::vector<std::string> times_;
  int time_field_ = -1;
};

struct Tally {
  int64_t in_objects = 0;
  int64_t found = 0;        // ids whose source row is still the version of the run's range
  int64_t changed = 0;      // ids whose source row is newer, or that were deleted since
  int64_t retired = 0;      // ids gone with a partition `fleetpipe retain` dropped
  int64_t unexplained = 0;  // ids neither: in the bucket but never (or no longer) in the source
  std::vector<int64_t> doubled, extra;
};

// One object's ids against the source (a query per object: memory follows the object size). `times`, when
// not empty, holds each id's row time: an id gone from the source whose time lies in a dropped partition
// left with it.
Status tally_object(pg::Connection& src, const TableSpec& t, const RunRange& range, std::vector<int64_t>& ids,
                    const std::vector<std::string>& times, Tally& tally) {
  const bool timed = !times.empty();
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i] == sorted[i - 1] && tally.doubled.size() < kShownIds) tally.doubled.push_back(sorted[i]);
  tally.in_objects += static_cast<int64_t>(ids.size());
  const std::string gone = "(xid IS NULL OR xid < $2::xid8) AND id NOT IN (SELECT id FROM d)";
  const std::string retired =
      timed ? "EXISTS (SELECT 1 FROM public.trip_partitions p WHERE p.dropped_at IS NOT NULL "
              "AND s.tm >= p.range_start AND s.tm < p.range_end)"
            : "false";
  auto r = FP_TRY(
      src.query_params(
          fmt::format(
              "WITH r AS (SELECT DISTINCT ON (id) id, tm FROM unnest($1::bigint[], {2}) AS u(id, tm)), "
              // One primary-key lookup per id, fenced (OFFSET 0): joined plainly, the planner hashes the
              // ids and scans the whole table once it is large, a cost that grows with the history.
              "s AS (SELECT r.id, r.tm, t.xid FROM r LEFT JOIN LATERAL (SELECT x._export_xid AS xid "
              "      FROM public.{0} x WHERE x.id = r.id OFFSET 0) t ON true), "
              "d AS (SELECT DISTINCT id FROM public.export_deletes "
              "      WHERE table_name = '{0}' AND _export_xid >= $3::xid8) "
              "SELECT count(*) FILTER (WHERE xid >= $2::xid8 AND xid < $3::xid8), "
              "       count(*) FILTER (WHERE xid >= $3::xid8 OR (xid IS NULL AND id IN (SELECT id FROM d))), "
              "       count(*) FILTER (WHERE {3} AND NOT (xid IS NULL AND {4})), "
              "       (array_agg(id ORDER BY id) FILTER (WHERE {3} AND NOT (xid IS NULL AND "
              "{4})))[1:{1}]::text, "
              "       count(*) FILTER (WHERE {3} AND xid IS NULL AND {4}) "
              "FROM s",
              t.name, kShownIds, timed ? "$4::timestamp[]" : "NULL::timestamp[]", gone, retired),
          timed ? pg::make_params(pg::array_param(ids), std::to_string(range.xid_from),
                                  std::to_string(range.xid_to), pg::array_param(times))
                : pg::make_params(pg::array_param(ids), std::to_string(range.xid_from),
                                  std::to_string(range.xid_to))),
      "source ids");
  tally.found += FP_TRY(r.get<int64_t>(0, 0), "found");
  tally.changed += FP_TRY(r.get<int64_t>(0, 1), "changed");
  const int64_t extra = FP_TRY(r.get<int64_t>(0, 2), "extra");
  tally.unexplained += extra;
  tally.retired += FP_TRY(r.get<int64_t>(0, 4), "retired");
  if (extra > 0 && tally.extra.size() < kShownIds) {
    auto sample = FP_TRY(r.get<std::optional<std::string>>(0, 3), "sample");
    if (sample) {
      for (size_t p = 1; p < sample->size() && tally.extra.size() < kShownIds;) {
        size_t e = sample->find_first_of(",}", p);
        tally.extra.push_back(std::stoll(sample->substr(p, e - p)));
        p = e + 1;
      }
    }
  }
  return ok_status();
}

}  // namespace

Result<VerifyLine> newest_run_exact(pg::Connection& src, s3::Client& s3, const TableSpec& t,
                                    const RunManifest& run) {
  const RunRange& range = run.range;
  Tally tally;
  std::vector<std::string> unreadable;  // objects whose bytes are not the run's rows: a FAIL, not a crash
  for (const auto& o : run.objects) {
    if (o.table != t.name || o.kind != ObjectKind::kRows) continue;
    ObjectIds reader(t, o, range);
    if (auto st = reader.read(s3); !st) {
      unreadable.push_back(st.error().message);
      continue;
    }
    FP_CHECK(tally_object(src, t, range, reader.ids(), reader.times(), tally), "newest run");
  }
  auto in_range = FP_TRY(
      src.query(fmt::format(
                    "SELECT count(*) FROM public.{} WHERE _export_xid >= $1::xid8 AND _export_xid < $2::xid8",
                    t.name),
                std::to_string(range.xid_from), std::to_string(range.xid_to)),
      "source rows of the run's range");
  const int64_t source_rows = FP_TRY(in_range.get<int64_t>(0, 0), "count");
  const int64_t missing = source_rows - tally.found;
  std::string detail = fmt::format(
      "run {} (xid {}..{}): {} rows in its objects = {} source rows of its range + {} changed or "
      "deleted since",
      range.run, range.xid_from, range.xid_to, tally.in_objects, tally.found, tally.changed);
  if (tally.retired > 0) detail += fmt::format(" + {} in partitions dropped since (retain)", tally.retired);
  if (!tally.doubled.empty()) detail += fmt::format("; ids twice: {}", fmt::join(tally.doubled, ", "));
  if (missing > 0) detail += fmt::format("; {} source rows of its range in none of its objects", missing);
  if (tally.unexplained > 0)
    detail += fmt::format("; {} ids the source never had at that version, e.g. {}", tally.unexplained,
                          fmt::join(tally.extra, ", "));
  if (!unreadable.empty())
    detail += fmt::format("; {} objects unreadable: {}", unreadable.size(), unreadable.front());
  const bool pass = tally.doubled.empty() && missing == 0 && tally.unexplained == 0 && unreadable.empty();
  if (pass) detail += ", each id once";
  return VerifyLine{pass, "source->bucket (newest run)", std::string(t.name), detail};
}

}  // namespace fp::batch
