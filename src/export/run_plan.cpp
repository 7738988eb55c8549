#include "export/run_plan.h"

#include "common/log.h"

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "export";

Result<uint64_t> parse_u64(std::string_view s) {
  auto v = pg::parse_text<int64_t>(s);
  if (!v) return std::move(v).error();
  return static_cast<uint64_t>(*v);
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
// values before the insert trigger existed): the watermark would pass over it later, or never. Each
// table's newest id is compared with the next transaction id of the same statement's snapshot: every row
// it sees was committed before that, so only a restored value can reach it. (Compared with the run's
// earlier snapshot, a row committed in between was taken for one from the future.)
Status check_no_future_rows(pg::Connection& conn) {
  for (const auto& t : tables()) {
    auto r =
        FP_TRY(conn.query(fmt::format("SELECT newest::text, pg_snapshot_xmax(pg_current_snapshot())::text "
                                      "FROM (SELECT max(_export_xid) AS newest FROM public.{0} UNION ALL "
                                      "SELECT max(_export_xid) FROM public.export_deletes "
                                      "WHERE table_name = '{0}') m",
                                      t.name)),
               "newest row version");
    for (int i = 0; i < r.size(); ++i) {
      const auto text = FP_TRY(r.get<std::optional<std::string>>(i, 0), "max");
      if (!text) continue;  // an empty table
      const uint64_t newest = FP_TRY(parse_u64(*text), "max");
      const uint64_t next = FP_TRY(parse_u64(FP_TRY(r.get<std::string>(i, 1), "xmax")), "xmax");
      if (newest >= next)
        return make_error("{}{} carries transaction id {}, beyond the source's next one ({}); {}",
                          i == 0 ? "public." : "the delete log of ", t.name, newest, next, kRecovery);
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
  return RunPlan{m.range, m.snapshot, m.snapshot_at};
}

// Writes the intent of a planned run (before any of its objects).
Status write_intent(s3::Client& s3, const ExportOptions& opts, const RunPlan& plan, const SourceState& src) {
  RunManifest intent{plan.range, plan.snapshot, {}, src.identity, plan.snapshot_at};
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
  FP_CHECK(check_no_future_rows(conn), "watermark");
  plan.snapshot = src.snapshot;
  plan.snapshot_at = src.snapshot_at;
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
  plan.snapshot_at = src.snapshot_at;
  log::emit(log::Level::kWarn, kLog, "starting a new export epoch: every row is exported again",
            {{"epoch", plan.range.epoch}, {"run", plan.range.run}, {"source", src.identity.describe()}});
  FP_CHECK(write_intent(s3, opts, plan, src), "intent");
  return plan;
}

}  // namespace

Result<SourceState> read_source(pg::Connection& conn) {
  auto r =
      FP_TRY(conn.query("SELECT (SELECT system_identifier::text FROM pg_control_system()), "
                        "(SELECT oid::bigint FROM pg_database WHERE datname = current_database()), "
                        "pg_current_snapshot()::text, pg_snapshot_xmin(pg_current_snapshot())::text, "
                        "pg_snapshot_xmax(pg_current_snapshot())::text, "
                        "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"),
             "source identity and snapshot");
  SourceState s;
  s.identity.system_identifier = std::string(FP_TRY(r.get<std::string>(0, 0), "system identifier"));
  s.identity.database_oid = FP_TRY(r.get<int64_t>(0, 1), "database oid");
  s.snapshot = std::string(FP_TRY(r.get<std::string>(0, 2), "snapshot"));
  s.xmin = FP_TRY(parse_u64(FP_TRY(r.get<std::string>(0, 3), "xmin")), "xmin");
  s.xmax = FP_TRY(parse_u64(FP_TRY(r.get<std::string>(0, 4), "xmax")), "xmax");
  s.snapshot_at = std::string(FP_TRY(r.get<std::string>(0, 5), "snapshot time"));
  return s;
}

// Which run to do: a new epoch when asked, else the pending (crashed) run if there is one, else a new run
// up to the current snapshot (nullopt: nothing to do).
Result<std::optional<RunPlan>> plan_run(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                                        bool new_epoch, ExportReport& report) {
  // The head and what came after it, not the whole history (a new epoch needs only the newest run too).
  auto state = FP_TRY(read_manifest_head(s3, opts.prefix), "manifests");
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

}  // namespace fp::batch
