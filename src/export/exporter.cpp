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

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "export";
// pg_try_advisory_lock key: "fleetpipe export" (any constant works; this one is unlikely to collide).
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

// The source database as the export sees it now.
struct SourceState {
  SourceIdentity identity;
  std::string snapshot;
  uint64_t xmin = 0;  // every transaction below has ended
  uint64_t xmax = 0;  // the next transaction id to be assigned
};

Result<SourceState> read_source(pg::Connection& conn) {
  auto r = FP_TRY(conn.query("SELECT (SELECT system_identifier::text FROM pg_control_system()), "
                             "(SELECT oid::bigint FROM pg_database WHERE datname = current_database()), "
                             "pg_current_snapshot()::text, pg_snapshot_xmin(pg_current_snapshot())::text, "
                             "pg_snapshot_xmax(pg_current_snapshot())::text"),
                  "source identity and snapshot");
  SourceState s;
  s.identity.system_identifier = std::string(FP_TRY(r.get<std::string>(0, 0), "system identifier"));
  s.identity.database_oid = FP_TRY(r.get<int64_t>(0, 1), "database oid");
  s.snapshot = std::string(FP_TRY(r.get<std::string>(0, 2), "snapshot"));
  s.xmin = FP_TRY(parse_u64(FP_TRY(r.get<std::string>(0, 3), "xmin")), "xmin");
  s.xmax = FP_TRY(parse_u64(FP_TRY(r.get<std::string>(0, 4), "xmax")), "xmax");
  return s;
}

constexpr std::string_view kRecovery =
    "if the webapp database was restored or recreated on purpose, run `fleetpipe export --new-epoch` to "
    "re-export every row into a new epoch (README: Recovering the batch lane)";

// The bucket's watermark must have been taken from this very database, and not from its future.
Status check_watermark(const RunManifest& last, const SourceState& src) {
  if (!last.source.empty() && !(last.source == src.identity))
    return make_error(
        "the bucket's watermark (run {}, epoch {}, xid {}) belongs to {}, but the source is {}: exporting "
        "from here would skip or misorder rows; {}",
        last.range.run, last.range.epoch, last.range.xid_to, last.source.describe(), src.identity.describe(),
        kRecovery);
  if (last.range.xid_to > src.xmax)
    return make_error(
        "the bucket's watermark (run {}, xid {}) is ahead of the source's next transaction id {}: the "
        "source is not the database the bucket was exported from; {}",
        last.range.run, last.range.xid_to, src.xmax, kRecovery);
  return ok_status();
}

// No row may carry a transaction id the source has not reached (a dump restored with its _export_xid
// values before the insert trigger existed): the watermark would pass over it later, or never.
Status check_no_future_rows(pg::Connection& conn, const SourceState& src) {
  for (const auto& t : tables()) {
    auto r = FP_TRY(conn.query(fmt::format("SELECT max(_export_xid)::text FROM public.{0} UNION ALL "
                                           "SELECT max(_export_xid)::text FROM public.export_deletes "
                                           "WHERE table_name = '{0}'",
                                           t.name)),
                    "newest row version");
    for (int i = 0; i < r.size(); ++i) {
      const auto text = FP_TRY(r.get<std::optional<std::string>>(i, 0), "max");
      if (!text) continue;  // an empty table
      const uint64_t newest = FP_TRY(parse_u64(*text), "max");
      if (newest >= src.xmax)
        return make_error("{}{} carries transaction id {}, beyond the source's next one ({}); {}",
                          i == 0 ? "public." : "the delete log of ", t.name, newest, src.xmax, kRecovery);
    }
  }
  return ok_status();
}

// A crashed run: redo exactly its range so the same objects come out again.
Result<RunPlan> resume_crashed_run(s3::Client& s3, const ExportOptions& opts, int64_t run,
                                   const SourceState& src) {
  auto body = FP_TRY(s3.get_object(intent_key(opts.prefix, run)), "read intent");
  auto m = FP_TRY(RunManifest::from_json(nlohmann::json::parse(body, nullptr, false)), "intent");
  FP_CHECK(check_watermark(m, src), "unfinished run");
  log::info(kLog, "resuming run {} (epoch {}, xid {}..{}) left unfinished by an earlier export", m.range.run,
            m.range.epoch, m.range.xid_from, m.range.xid_to);
  return RunPlan{m.range, m.snapshot};
}

// Writes the intent of a planned run (before any of its objects).
Status write_intent(s3::Client& s3, const ExportOptions& opts, const RunPlan& plan, const SourceState& src) {
  RunManifest intent{plan.range, plan.snapshot, {}, src.identity};
  FP_TRY(s3.put_object(intent_key(opts.prefix, plan.range.run), intent.to_json().dump(), "application/json"),
         "write intent");
  return ok_status();
}

// A new run from the last committed run's watermark up to the current snapshot's xmin, its intent written
// before any object; nullopt when no transaction finished since the watermark.
Result<std::optional<RunPlan>> plan_new_run(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                                            const std::vector<int64_t>& committed_runs,
                                            const SourceState& src) {
  RunPlan plan;
  RunRange& range = plan.range;
  range.run = committed_runs.empty() ? 1 : committed_runs.back() + 1;
  if (!committed_runs.empty()) {
    auto last = FP_TRY(read_manifest(s3, opts.prefix, committed_runs.back()), "last manifest");
    FP_CHECK(check_watermark(last, src), "watermark");
    range.xid_from = last.range.xid_to;
    range.epoch = last.range.epoch;
  }
  FP_CHECK(check_no_future_rows(conn, src), "watermark");
  plan.snapshot = src.snapshot;
  range.xid_to = src.xmin;
  if (range.xid_to <= range.xid_from) {
    log::info(kLog, "nothing to export: no transaction finished since xid {}", range.xid_from);
    return std::optional<RunPlan>();
  }
  FP_CHECK(write_intent(s3, opts, plan, src), "intent");
  return std::optional<RunPlan>(std::move(plan));
}

// `--new-epoch`: rows restored with transaction ids from another database's future get a current one (the
// update trigger stamps it), then a run of the next epoch covers every transaction from 0, whatever the
// bucket's watermark says. A pending intent's range is abandoned: the new run takes its number.
Result<RunPlan> plan_new_epoch(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                               const ManifestState& state) {
  auto before = FP_TRY(read_source(conn), "source");
  for (const auto& t : tables()) {
    auto n = FP_TRY(conn.query(fmt::format("UPDATE public.{} SET _export_xid = pg_current_xact_id() "
                                           "WHERE _export_xid >= $1::xid8",
                                           t.name),
                               std::to_string(before.xmax)),
                    "restamp future rows");
    if (n.affected() > 0)
      log::warn(kLog, "{}: {} rows carried transaction ids from another database; restamped", t.name,
                n.affected());
  }
  FP_TRY(conn.query("UPDATE public.export_deletes SET _export_xid = pg_current_xact_id() "
                    "WHERE _export_xid >= $1::xid8",
                    std::to_string(before.xmax)),
         "restamp future deletes");
  auto src = FP_TRY(read_source(conn), "source");
  RunPlan plan;
  plan.range.run = state.committed_runs.empty() ? 1 : state.committed_runs.back() + 1;
  if (!state.committed_runs.empty())
    plan.range.epoch =
        FP_TRY(read_manifest(s3, opts.prefix, state.committed_runs.back()), "last manifest").range.epoch + 1;
  plan.range.xid_from = 0;
  plan.range.xid_to = src.xmin;
  plan.snapshot = src.snapshot;
  log::emit(log::Level::kWarn, kLog, "starting a new export epoch: every row is exported again",
            {{"epoch", plan.range.epoch}, {"run", plan.range.run}, {"source", src.identity.describe()}});
  FP_CHECK(write_intent(s3, opts, plan, src), "intent");
  return plan;
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
             {"epoch", range.epoch},
             {"xid_from", range.xid_from},
             {"xid_to", range.xid_to},
             {"rows", report.rows},
             {"deletes", report.deletes},
             {"objects", report.objects},
             {"bytes", report.bytes}});
  return ok_status();
}

// Which run to do: a new epoch when asked, else the pending (crashed) run if there is one, else a new run
// up to the current snapshot (nullopt: nothing to do).
Result<std::optional<RunPlan>> plan_run(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                                        bool new_epoch, ExportReport& report) {
  auto state = FP_TRY(read_manifest_state(s3, opts.prefix), "manifests");
  if (new_epoch) {
    auto plan = FP_TRY(plan_new_epoch(s3, conn, opts, state), "new epoch");
    report.new_epoch = true;
    return std::optional<RunPlan>(std::move(plan));
  }
  auto src = FP_TRY(read_source(conn), "source");
  if (state.pending_intent) {
    auto resumed = FP_TRY(resume_crashed_run(s3, opts, *state.pending_intent, src), "resume");
    report.resumed = true;
    return std::optional<RunPlan>(std::move(resumed));
  }
  return plan_new_run(s3, conn, opts, state.committed_runs, src);
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
  RunManifest manifest{range, plan.snapshot, {}, src.identity};
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
  auto conn = FP_TRY(
      pg::Connection::connect(cfg.webapp, text_stable_session("fleetpipe export", std::chrono::hours(2))),
      "connect webapp");
  auto locked = FP_TRY(conn.query("SELECT pg_try_advisory_lock($1)", kExportLockKey), "advisory lock");
  if (FP_TRY(locked.get<bool>(0, 0), "advisory lock") == false)
    return transient_error("another export is running against this database");
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
