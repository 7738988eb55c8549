#include "export/exporter.h"

#include <unistd.h>

#include <future>
#include <optional>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/batch/session.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/progress.h"
#include "common/s3/client.h"
#include "common/shutdown.h"

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "export";
// pg_try_advisory_lock key: "fleetpipe export" (any constant works; this one is unlikely to collide).
constexpr int64_t kExportLockKey = 0x666c6565747870;

// Cuts the ordered row stream of one table into objects (a new one per day and every max_rows rows),
// compresses them and uploads them, at most one upload in flight behind the compression.
class ObjectSink {
 public:
  ObjectSink(s3::Client& s3, const ExportOptions& opts, const TableSpec& spec, int64_t run,
             Progress& progress)
      : s3_(s3), opts_(opts), spec_(spec), run_(run), progress_(progress), gz_(opts.gzip_level) {}

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
    e.key = data_key(opts_.prefix, spec_.name, day_, first_id_, last_id_, run_);
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

Result<uint64_t> parse_u64(std::string_view s) {
  auto v = pg::parse_text<int64_t>(s);
  if (!v) return std::move(v).error();
  return static_cast<uint64_t>(*v);
}

}  // namespace

namespace {

// What a run covers: its range and the snapshot its range was taken from.
struct RunPlan {
  RunRange range;
  std::string snapshot;
};

// A crashed run: redo exactly its range so the same objects come out again.
Result<RunPlan> resume_crashed_run(s3::Client& s3, const ExportOptions& opts, int64_t run) {
  auto body = FP_TRY(s3.get_object(intent_key(opts.prefix, run)), "read intent");
  auto m = FP_TRY(RunManifest::from_json(nlohmann::json::parse(body, nullptr, false)), "intent");
  log::info(kLog, "resuming run {} (xid {}..{}) left unfinished by an earlier export", m.range.run,
            m.range.xid_from, m.range.xid_to);
  return RunPlan{m.range, m.snapshot};
}

// A new run from the last committed run's watermark up to the current snapshot's xmin, its intent written
// before any object; nullopt when no transaction finished since the watermark.
Result<std::optional<RunPlan>> plan_new_run(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                                            const std::vector<int64_t>& committed_runs) {
  RunPlan plan;
  RunRange& range = plan.range;
  range.run = committed_runs.empty() ? 1 : committed_runs.back() + 1;
  if (!committed_runs.empty())
    range.xid_from =
        FP_TRY(read_manifest(s3, opts.prefix, committed_runs.back()), "last manifest").range.xid_to;
  auto snap =
      FP_TRY(conn.query("SELECT pg_current_snapshot()::text, pg_snapshot_xmin(pg_current_snapshot())::text"),
             "snapshot");
  plan.snapshot = std::string(FP_TRY(snap.get<std::string>(0, 0), "snapshot"));
  range.xid_to = FP_TRY(parse_u64(FP_TRY(snap.get<std::string>(0, 1), "xmin")), "xmin");
  if (range.xid_to <= range.xid_from) {
    log::info(kLog, "nothing to export: no transaction finished since xid {}", range.xid_from);
    return std::optional<RunPlan>();
  }
  RunManifest intent{range, plan.snapshot, {}};
  FP_TRY(s3.put_object(intent_key(opts.prefix, range.run), intent.to_json().dump(), "application/json"),
         "write intent");
  return std::optional<RunPlan>(std::move(plan));
}

// One table's rows in the run's range (inside the run's transaction), cut into objects and uploaded; the
// objects join the run's manifest.
Status export_table(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts, const TableSpec& spec,
                    const RunRange& range, RunManifest& manifest, ExportReport& report) {
  int64_t total = 0;
  // The total only feeds the ETA of a terminal progress bar; don't pay for the count otherwise.
  if (opts.progress && isatty(STDERR_FILENO) == 1) {
    auto c = FP_TRY(conn.query(fmt::format("SELECT count(*) FROM public.{} WHERE _export_xid >= $1::xid8 AND "
                                           "_export_xid < $2::xid8",
                                           spec.name),
                               std::to_string(range.xid_from), std::to_string(range.xid_to)),
                    "count");
    total = FP_TRY(c.get<int64_t>(0, 0), "count");
  }
  Progress progress(std::string(kLog), fmt::format("export {}", spec.name), total);
  ObjectSink sink(s3, opts, spec, range.run, progress);
  auto copied = conn.copy_out(select_sql(spec, range), [&](std::string_view d) { return sink.consume(d); });
  if (!copied) {
    sink.abandon();
    return std::move(copied).error().context(fmt::format("export {}", spec.name));
  }
  FP_CHECK(sink.close(), fmt::format("export {}", spec.name));
  progress.finish();
  report.rows += *copied;
  for (auto& o : sink.objects()) {
    report.bytes += o.bytes;
    manifest.objects.push_back(std::move(o));
  }
  log::emit(log::Level::kInfo, kLog, fmt::format("exported {}", spec.name),
            {{"table", spec.name}, {"rows", *copied}, {"run", range.run}});
  return ok_status();
}

// The commit point: the run's manifest; the intent it replaces is deleted after it.
Status commit_run(s3::Client& s3, const ExportOptions& opts, const RunManifest& manifest,
                  const ExportReport& report) {
  const RunRange& range = manifest.range;
  FP_TRY(s3.put_object(manifest_key(opts.prefix, range.run), manifest.to_json().dump(), "application/json"),
         "write manifest");
  if (auto st = s3.delete_object(intent_key(opts.prefix, range.run)); !st)
    log::warn(kLog, "run {} committed but its intent could not be deleted: {}", range.run,
              st.error().message);
  log::emit(log::Level::kInfo, kLog, "export run committed",
            {{"run", range.run},
             {"xid_from", range.xid_from},
             {"xid_to", range.xid_to},
             {"rows", report.rows},
             {"objects", report.objects},
             {"bytes", report.bytes}});
  return ok_status();
}

// One run: the pending (crashed) run if there is one, otherwise a new run up to the current snapshot.
Result<ExportReport> export_once(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts) {
  auto state = FP_TRY(read_manifest_state(s3, opts.prefix), "manifests");
  ExportReport report;
  RunPlan plan;
  if (state.pending_intent) {
    auto resumed = resume_crashed_run(s3, opts, *state.pending_intent);
    if (!resumed) return std::move(resumed).error();
    plan = std::move(*resumed);
    report.resumed = true;
  } else {
    auto planned = plan_new_run(s3, conn, opts, state.committed_runs);
    if (!planned) return std::move(planned).error();
    if (!*planned) return report;
    plan = std::move(**planned);
  }
  const RunRange& range = plan.range;
  report.run = range.run;
  report.xid_from = range.xid_from;
  report.xid_to = range.xid_to;

  // One REPEATABLE READ snapshot for all three tables, so a run is a consistent cut.
  auto tx = FP_TRY(conn.begin({pg::Isolation::kRepeatableRead, true}), "begin");
  RunManifest manifest{range, plan.snapshot, {}};
  for (const auto& spec : tables()) {
    if (auto st = export_table(s3, conn, opts, spec, range, manifest, report); !st)
      return std::move(st).error();
  }
  FP_CHECK(tx.commit(), "commit");
  report.objects = static_cast<int64_t>(manifest.objects.size());
  if (auto st = commit_run(s3, opts, manifest, report); !st) return std::move(st).error();
  return report;
}

}  // namespace

Result<ExportReport> run_export(const Config& cfg, const ExportOptions& opts) {
  s3::Client s3(cfg.s3);
  FP_CHECK(s3.create_bucket(), "create bucket");
  auto conn = FP_TRY(
      pg::Connection::connect(cfg.webapp, text_stable_session("fleetpipe export", std::chrono::hours(2))),
      "connect webapp");
  auto locked = FP_TRY(conn.query("SELECT pg_try_advisory_lock($1)", kExportLockKey), "advisory lock");
  if (FP_TRY(locked.get<bool>(0, 0), "advisory lock") == false)
    return transient_error("another export is running against this database");
  auto first = FP_TRY(export_once(s3, conn, opts), "export");
  if (!first.resumed) return first;
  // The redone run only covers the crashed run's range: carry on to the present.
  auto next = FP_TRY(export_once(s3, conn, opts), "export");
  if (next.run == 0) return first;
  next.rows += first.rows;
  next.objects += first.objects;
  next.bytes += first.bytes;
  next.xid_from = first.xid_from;
  next.resumed = true;
  return next;
}

}  // namespace fp::batch
