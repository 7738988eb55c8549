#include "export/exporter.h"

#include <unistd.h>

#include <future>
#include <optional>
#include <set>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/batch/session.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/progress.h"
#include "common/s3/client.h"
#include "common/shutdown.h"
#include "export/run_plan.h"

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "export";
// Advisory lock key: "fleetpipe export" (any constant works; this one is unlikely to collide).
constexpr int64_t kExportLockKey = 0x666c6565747870;

// Cuts the ordered row stream of one table into objects (a new one per day and every max_rows rows),
// compresses them and uploads them, at most one upload in flight behind the compression.
class ObjectSink {
 public:
  ObjectSink(s3::Client& s3, const ExportOptions& opts, const TableSpec& spec, ObjectKind kind, int64_t run,
             Progress& progress)
      : s3_(s3),
        opts_(opts),
        spec_(spec),
        kind_(kind),
        run_(run),
        progress_(progress),
        gz_(opts.gzip_level) {}

  // A chunk of whole COPY text rows.
  Status consume(std::string_view chunk) {
    if (shutdown::requested()) return make_error("interrupted by shutdown");
    size_t pos = 0;
    int64_t n = 0;
    while (pos < chunk.size()) {
      size_t nl = chunk.find('\n', pos);
      if (nl == std::string_view::npos) nl = chunk.size();
      const std::string_view line = chunk.substr(pos, nl - pos);
      pos = nl + 1;
      scratch_.clear();
      auto info = FP_TRY(copy_row_to_json(spec_, line, scratch_), "row");
      if (rows_ > 0 && (info.day != day_ || rows_ >= opts_.max_rows_per_object)) FP_CHECK(flush(), "flush");
      if (rows_ == 0) {
        day_ = std::string(info.day);
        first_id_ = info.id;
      }
      last_id_ = info.id;
      ++rows_;
      ++n;
      json_ += scratch_;
      if (json_.size() >= (1u << 20)) {
        FP_CHECK(gz_.write(json_), "compress");
        json_.clear();
      }
    }
    progress_.add(n);
    return ok_status();
  }

  // Uploads the last object and waits for every upload.
  Status close() {
    if (rows_ > 0) FP_CHECK(flush(), "flush");
    return wait_upload();
  }
  // After a failed COPY: waits for the upload in flight but never uploads the partial object in hand (the
  // rerun would cut it differently).
  void abandon() {
    if (pending_.valid()) (void)pending_.get();
  }

  std::vector<ObjectEntry>& objects() { return objects_; }

 private:
  Status flush() {
    FP_CHECK(gz_.write(json_), "compress");
    json_.clear();
    FP_CHECK(gz_.finish(), "compress");
    ObjectEntry e;
    e.key = data_key(opts_.prefix, spec_.name, day_, first_id_, last_id_, run_, kind_);
    e.kind = kind_;
    e.table = std::string(spec_.name);
    e.dt = day_;
    e.first_id = first_id_;
    e.last_id = last_id_;
    e.rows = rows_;
    auto body = std::make_shared<std::string>(std::move(gz_.out()));
    gz_.reset();
    rows_ = 0;
    e.bytes = static_cast<int64_t>(body->size());
    e.sha256 = digest::sha256_hex(*body);
    FP_CHECK(wait_upload(), "previous upload");
    s3::Metadata meta = {{"sha256", e.sha256},
                         {"rows", std::to_string(e.rows)},
                         {"kind", std::string(kind_name(kind_))},
                         {"table", e.table},
                         {"run", std::to_string(run_)}};
    objects_.push_back(e);
    pending_ = std::async(std::launch::async, [this, key = e.key, body, meta]() -> Status {
      auto etag = s3_.put_object(key, *body, "application/gzip", meta);
      if (!etag) return std::move(etag).error().context(key);
      log::debug(kLog, "uploaded {} ({} bytes)", key, body->size());
      return ok_status();
    });
    return ok_status();
  }

  Status wait_upload() {
    if (!pending_.valid()) return ok_status();
    return pending_.get();
  }

  s3::Client& s3_;
  const ExportOptions& opts_;
  const TableSpec& spec_;
  const ObjectKind kind_;
  int64_t run_;
  Progress& progress_;
  GzipWriter gz_;
  std::string json_, scratch_, day_;
  int64_t rows_ = 0, first_id_ = 0, last_id_ = 0;
  std::vector<ObjectEntry> objects_;
  std::future<Status> pending_;
};

std::string select_sql(const TableSpec& t, const RunRange& r) {
  std::string cols;
  for (const auto& c : t.columns) cols += fmt::format("{}, ", c.name);
  // The range bounds are integers we formatted ourselves (COPY takes no parameters).
  return fmt::format(
      "COPY (SELECT {}_export_xid FROM public.{} WHERE _export_xid >= '{}'::xid8 AND _export_xid < "
      "'{}'::xid8 "
      "ORDER BY id) TO STDOUT",
      cols, t.name, r.xid_from, r.xid_to);
}

// A table's deletes in the range, at most one per (day, id): ordered by day so the sink cuts one object
// per day however the deleted ids are spread, and by id within it.
std::string deletes_sql(const TableSpec& t, const RunRange& r) {
  return fmt::format(
      "COPY (SELECT DISTINCT ON (day, id) id, day, _export_xid FROM public.export_deletes "
      "WHERE table_name = '{}' AND _export_xid >= '{}'::xid8 AND _export_xid < '{}'::xid8 "
      "ORDER BY day, id, _export_xid DESC) TO STDOUT",
      t.name, r.xid_from, r.xid_to);
}

// One kind of object of one table in the run's range (inside the run's transaction), cut into objects and
// uploaded; the objects join the run's manifest.
Status export_objects(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts, const TableSpec& table,
                      ObjectKind kind, const RunRange& range, RunManifest& manifest, ExportReport& report) {
  const bool deletes = kind == ObjectKind::kDeletes;
  const TableSpec& spec = deletes ? deletes_spec(table.name) : table;
  const std::string what = fmt::format("export {}{}", table.name, deletes ? " deletes" : "");
  int64_t total = 0;
  // The total only feeds the ETA of a terminal progress bar; don't pay for the count otherwise.
  if (!deletes && opts.progress && isatty(STDERR_FILENO) == 1) {
    auto c = FP_TRY(conn.query(fmt::format("SELECT count(*) FROM public.{} WHERE _export_xid >= $1::xid8 AND "
                                           "_export_xid < $2::xid8",
                                           table.name),
                               std::to_string(range.xid_from), std::to_string(range.xid_to)),
                    "count");
    total = FP_TRY(c.get<int64_t>(0, 0), "count");
  }
  Progress progress(std::string(kLog), what, total);
  ObjectSink sink(s3, opts, spec, kind, range.run, progress);
  auto copied = conn.copy_out(deletes ? deletes_sql(table, range) : select_sql(table, range),
                              [&](std::string_view d) { return sink.consume(d); });
  if (!copied) {
    sink.abandon();
    return std::move(copied).error().context(what);
  }
  FP_CHECK(sink.close(), what);
  progress.finish();
  (deletes ? report.deletes : report.rows) += *copied;
  for (auto& o : sink.objects()) {
    report.bytes += o.bytes;
    manifest.objects.push_back(std::move(o));
  }
  log::emit(log::Level::kInfo, kLog, fmt::format("exported {}", table.name),
            {{"table", table.name}, {"kind", kind_name(kind)}, {"rows", *copied}, {"run", range.run}});
  return ok_status();
}

// Objects an earlier, crashed attempt at this run wrote that the committed manifest does not list (the
// source changed before the redo, so the rows were cut differently): deleted, so that every data object in
// the bucket is one a committed manifest lists. Only after a resumed run or a new epoch, which pay for a
// listing of the bucket.
Status delete_orphans(s3::Client& s3, const ExportOptions& opts, const RunManifest& manifest) {
  std::set<std::string, std::less<>> listed;
  for (const auto& o : manifest.objects) listed.insert(o.key);
  int64_t deleted = 0;
  for (const auto& t : tables()) {
    auto objs = FP_TRY(s3.list_all(fmt::format("{}{}/", opts.prefix, t.name)), "list objects");
    for (const auto& o : objs) {
      auto k = parse_data_key(opts.prefix, o.key);
      if (!k || k->run != manifest.range.run || listed.contains(o.key)) continue;
      FP_CHECK(s3.delete_object(o.key), "delete orphan");
      ++deleted;
    }
  }
  if (deleted > 0)
    log::info(kLog, "run {}: deleted {} objects left by its crashed attempt", manifest.range.run, deleted);
  return ok_status();
}

// The commit point: the run's manifest; the intent it replaces is deleted after it and the head moved to it.
Status commit_run(s3::Client& s3, const ExportOptions& opts, const RunManifest& manifest,
                  const ExportReport& report) {
  const RunRange& range = manifest.range;
  FP_TRY(s3.put_object(manifest_key(opts.prefix, range.run), manifest.to_json().dump(), "application/json"),
         "write manifest");
  if (auto st = s3.delete_object(intent_key(opts.prefix, range.run)); !st)
    log::warn(kLog, "run {} committed but its intent could not be deleted: {}", range.run,
              st.error().message);
  // After the commit: a head left behind by a failure here is only stale, and the next export lists the few
  // runs after it (layout.h).
  if (auto st = write_manifest_head(s3, opts.prefix, range.run); !st)
    log::warn(kLog, "run {} committed but the manifest head could not be moved to it: {}", range.run,
              st.error().message);
  log::emit(log::Level::kInfo, kLog, "export run committed",
            {{"run", range.run},
             {"epoch", range.epoch},
             {"xid_from", range.xid_from},
             {"xid_to", range.xid_to},
             {"rows", report.rows},
             {"deletes", report.deletes},
             {"objects", report.objects},
             {"bytes", report.bytes}});
  return ok_status();
}

// One run, committed: its objects from one REPEATABLE READ snapshot, then its manifest.
Result<ExportReport> export_once(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                                 bool new_epoch) {
  ExportReport report;
  auto planned = plan_run(s3, conn, opts, new_epoch, report);
  if (!planned) return std::move(planned).error();
  if (!*planned) return report;
  const RunPlan plan = std::move(**planned);
  const RunRange& range = plan.range;
  report.run = range.run;
  report.epoch = range.epoch;
  report.xid_from = range.xid_from;
  report.xid_to = range.xid_to;

  auto src = FP_TRY(read_source(conn), "source");
  // One REPEATABLE READ snapshot for all three tables and their deletes, so a run is a consistent cut.
  auto tx = FP_TRY(conn.begin({pg::Isolation::kRepeatableRead, true}), "begin");
  RunManifest manifest{range, plan.snapshot, {}, src.identity, plan.snapshot_at};
  for (const auto& spec : tables()) {
    FP_CHECK(export_objects(s3, conn, opts, spec, ObjectKind::kRows, range, manifest, report), "rows");
    // An epoch's first run carries every live row; the loader retires what it does not carry, so the
    // delete log before it has nothing to add.
    if (range.xid_from > 0)
      FP_CHECK(export_objects(s3, conn, opts, spec, ObjectKind::kDeletes, range, manifest, report),
               "deletes");
  }
  FP_CHECK(tx.commit(), "commit");
  report.objects = static_cast<int64_t>(manifest.objects.size());
  FP_CHECK(commit_run(s3, opts, manifest, report), "commit run");
  if (report.resumed || report.new_epoch) FP_CHECK(delete_orphans(s3, opts, manifest), "orphans");
  return report;
}

}  // namespace

Result<ExportReport> run_export(const Config& cfg, const ExportOptions& opts) {
  s3::Client s3(cfg.s3);
  FP_CHECK(s3.create_bucket(), "create bucket");
  auto conn = FP_TRY(pg::Connection::connect(cfg.webapp_as(DbService::kPipeline),
                                             text_stable_session("fleetpipe export", std::chrono::hours(2))),
                     "connect webapp");
  FP_CHECK(take_run_lock(conn, kExportLockKey, std::chrono::seconds(10), "export"), "export");
  auto first = FP_TRY(export_once(s3, conn, opts, opts.new_epoch), "export");
  if (!first.resumed && !first.new_epoch) return first;
  // The redone run only covers the crashed run's range (a new epoch's first run, up to its snapshot):
  // carry on to the present.
  auto next = FP_TRY(export_once(s3, conn, opts, false), "export");
  if (next.run == 0) return first;
  next.rows += first.rows;
  next.deletes += first.deletes;
  next.objects += first.objects;
  next.bytes += first.bytes;
  next.xid_from = first.xid_from;
  next.resumed = first.resumed;
  next.new_epoch = first.new_epoch;
  return next;
}

}  // namespace fp::batch
