#include "scheduler/scheduler.h"

#include <unistd.h>

#include <atomic>
#include <mutex>

#include "common/cli_support.h"
#include "common/http/server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/pg/connection.h"
#include "common/shutdown.h"
#include "scheduler/history.h"

namespace fp::sched {
namespace {
constexpr const char* kComponent = "scheduler";
constexpr const char* kRequestChannel = "fleetpipe_run_request";

std::string scheduler_identity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return fmt::format("{}:{}", host, getpid());
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
}  // namespace

struct Scheduler::Impl {
  Config cfg;
  SchedulerOptions opts;
  std::string identity = scheduler_identity();
  metrics::Registry& reg = metrics::default_registry();
  metrics::Gauge& last_success = reg.gauge("fleetpipe_scheduler_last_success_timestamp_seconds",
                                           "Unix time the last successful run finished (0: none yet)");
  metrics::Gauge& running =
      reg.gauge("fleetpipe_scheduler_run_in_progress", "1 while this scheduler runs the DAG");
  metrics::Counter& skipped_locked =
      reg.counter("fleetpipe_scheduler_ticks_skipped_total",
                  "Ticks skipped because another scheduler held the lock", {{"reason", "locked"}});

  Freshness freshness{reg, opts.pipeline.freshness};

  std::mutex state_mu;  // guards the fields /healthz reports
  int64_t last_run_id = 0;
  std::string last_outcome = "none";
  std::chrono::system_clock::time_point next_tick{};
  std::atomic<int64_t> loop_heartbeat{0};  // steady-clock seconds of the last loop iteration

  Impl(Config c, SchedulerOptions o) : cfg(std::move(c)), opts(std::move(o)) {}

  void count_run(const char* outcome) {
    reg.counter("fleetpipe_scheduler_runs_total", "Pipeline runs by outcome", {{"outcome", outcome}}).inc();
  }

  void observe_attempt(const std::string& step, const StepResult& r, std::chrono::milliseconds took) {
    if (step == "dbt_build" && r.ok && r.detail.is_object() && r.detail.contains("freshness") &&
        r.detail["freshness"].contains("as_of"))
      freshness.built(r.detail["freshness"]["as_of"].get<double>());
    reg.histogram("fleetpipe_scheduler_step_duration_seconds", "Duration of each step attempt",
                  {{"step", step}}, metrics::exponential_buckets(0.05, 2, 14))
        .observe(took.count() / 1000.0);
    reg.counter("fleetpipe_scheduler_step_attempts_total", "Step attempts by outcome",
                {{"step", step}, {"outcome", r.ok ? "success" : "failed"}})
        .inc();
  }

  // One tick: lock, clean up, run the DAG, record, unlock. The connection is the run's own and closes
  // with it, which also releases the lock if anything below goes wrong.
  // `start_at`: a scheduled tick a little ahead; the run begins then, its dbt build already started.
  RunOutcome run_once(const std::string& trigger,
                      std::optional<std::chrono::system_clock::time_point> start_at = {}) {
    pg::ConnectOptions co;
    co.statement_timeout = std::chrono::seconds(30);
    co.backoff.max_attempts = 3;
    auto conn = pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co);
    if (!conn) {
      log::error(kComponent, "warehouse: {}", conn.error().message);
      count_run("error");
      return RunOutcome::kError;
    }
    RunHistory history(*conn);
    auto locked = history.try_lock();
    if (!locked) {
      log::error(kComponent, "{}", locked.error().message);
      count_run("error");
      return RunOutcome::kError;
    }
    if (!*locked) {
      log::info(kComponent, "another scheduler holds the lock; skipping this tick");
      skipped_locked.inc();
      return RunOutcome::kLocked;
    }
    const RunOutcome out = run_locked(history, *conn, trigger, start_at);
    if (auto st = history.unlock(); !st) log::warn(kComponent, "{}", st.error().message);
    return out;
  }

  // Claims the open run requests for run_id and decides what the run does: the whole-table tests too when
  // a request asked for them or the full-test schedule says they are due.
  PipelineOptions claim_and_plan(RunHistory& history, int64_t run_id) {
    auto claimed = history.claim_requests(run_id);
    if (!claimed)
      log::error(kComponent, "{}", claimed.error().message);
    else if (!claimed->ids.empty())
      log::info(kComponent, "run {} serves {} run request(s)", run_id, claimed->ids.size());
    PipelineOptions pipeline = opts.pipeline;
    auto due = history.full_tests_due(opts.full_tests_every);
    if (!due) log::warn(kComponent, "{}", due.error().message);
    pipeline.full_tests = (claimed && claimed->full_tests) || (due && *due);
    if (pipeline.full_tests) log::info(kComponent, "run {} also runs dbt's whole-table tests", run_id);
    return pipeline;
  }

  RunOutcome run_locked(RunHistory& history, pg::Connection& conn, std::string trigger,
                        std::optional<std::chrono::system_clock::time_point> start_at) {
    auto abandoned = history.mark_abandoned(identity);
    if (!abandoned) {
      log::error(kComponent, "{}", abandoned.error().message);
      return RunOutcome::kError;
    }
    if (*abandoned > 0)
      log::warn(kComponent, "marked {} run(s) left running by a stopped scheduler as abandoned", *abandoned);
    auto open = history.open_requests();
    if (!open) {
      log::error(kComponent, "{}", open.error().message);
      return RunOutcome::kError;
    }
    if (*open > 0 && trigger == "schedule") trigger = "manual";
    // dbt's start-up overlaps export and load, and for a scheduled run the lead before its tick too; the
    // build waits at the load gate until dbt_build opens it. Only while this scheduler holds the run lock.
    std::shared_ptr<PrewarmedBuild> prewarm;
    if (opts.pipeline.dbt.prewarm) prewarm = prewarm_dbt_build(cfg, opts.pipeline.dbt);
    if (start_at && !wait_until(*start_at)) return RunOutcome::kError;  // shut down before the run began
    auto run_id = history.start_run(identity, trigger);
    if (!run_id) {
      log::error(kComponent, "{}", run_id.error().message);
      return RunOutcome::kError;
    }
    PipelineOptions pipeline = claim_and_plan(history, *run_id);
    pipeline.prewarm = std::move(prewarm);

    log::info(kComponent, "run {} started ({})", *run_id, trigger);
    running.set(1);
    {
      std::lock_guard lock(state_mu);
      last_run_id = *run_id;
      last_outcome = "running";
    }
    PgStepRecorder recorder(conn, *run_id);
    DagOptions dopts;
    dopts.retry = opts.retry;
    dopts.on_attempt = [this](const std::string& s, const StepResult& r, std::chrono::milliseconds d) {
      observe_attempt(s, r, d);
    };
    const auto t0 = std::chrono::steady_clock::now();
    DagResult result = run_dag(make_pipeline(cfg, pipeline), recorder, dopts);
    if (pipeline.prewarm) pipeline.prewarm->cancel();  // load failed: the held build never ran a model
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    running.set(0);

    std::string error = result.error;
    for (const auto& e : result.record_errors)
      error += (error.empty() ? "" : "; ") + std::string("history: ") + e;
    if (auto st = history.finish_run(*run_id, result.ok, error); !st)
      log::error(kComponent, "{}", st.error().message);
    std::string steps;
    for (const auto& s : result.steps)
      steps += fmt::format("{}{}={}({}ms)", steps.empty() ? "" : " ", s.name, to_string(s.outcome),
                           s.duration.count());
    if (result.ok) {
      log::info(kComponent, "run {} succeeded in {} ms: {}", *run_id, took.count(), steps);
      last_success.set(unix_seconds(std::chrono::system_clock::now()));
      count_run("success");
    } else {
      log::error(kComponent, "run {} failed in {} ms: {}; {}", *run_id, took.count(), steps, result.error);
      count_run("failed");
    }
    std::lock_guard lock(state_mu);
    last_outcome = result.ok ? "success" : "failed";
    return result.ok ? RunOutcome::kSuccess : RunOutcome::kFailed;
  }

  httpd::Health health() {
    httpd::Health h;
    std::lock_guard lock(state_mu);
    const int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    // The loop iterates at least once a second while idle; during a run it is busy in the DAG (and the
    // steps have their own timeouts), so only an idle loop that stopped turning is unhealthy.
    const bool busy = running.value() > 0;
    h.ok = busy || now_s - loop_heartbeat.load() < 30;
    h.detail = {{"last_run_id", last_run_id},
                {"last_outcome", last_outcome},
                {"running", busy},
                {"next_tick_unix", unix_seconds(next_tick)},
                {"schedule", opts.schedule ? opts.schedule->describe() : "once"},
                {"warehouse_freshness", freshness.describe(unix_seconds(std::chrono::system_clock::now()))}};
    return h;
  }

  // The marts' as-of from the history, so a restarted scheduler reports their lag before its first build.
  void restore_freshness() {
    pg::ConnectOptions co;
    co.statement_timeout = std::chrono::seconds(10);
    co.backoff.max_attempts = 1;
    auto conn = pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co);
    if (!conn) return;  // the first run reports the connection problem
    auto as_of = last_built_as_of(*conn);
    if (!as_of)
      log::warn(kComponent, "freshness: {}", as_of.error().message);
    else if (*as_of)
      freshness.built(**as_of);
  }

  void beat() {
    freshness.tick(unix_seconds(std::chrono::system_clock::now()));
    loop_heartbeat.store(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

  // A session listening for run requests; reconnected lazily, and its absence only costs the instant
  // reaction: requests are still picked up at every tick.
  std::optional<pg::Connection> listener;
  std::chrono::steady_clock::time_point listener_retry_at{};

  void ensure_listener() {
    if (listener && !listener->broken()) return;
    listener.reset();
    if (std::chrono::steady_clock::now() < listener_retry_at) return;
    pg::ConnectOptions co;
    co.backoff.max_attempts = 1;
    auto c = pg::Connection::connect_once(cfg.warehouse_as(DbService::kPipeline), co);
    if (c) {
      if (auto st = c->listen(kRequestChannel); st) {
        listener.emplace(std::move(*c));
        return;
      } else {
        log::warn(kComponent, "LISTEN {}: {}", kRequestChannel, st.error().message);
      }
    } else {
      log::warn(kComponent, "run request listener: {}", c.error().message);
    }
    listener_retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  }

  // Waits up to d; true when a run request was notified.
  bool wait(std::chrono::milliseconds d) {
    ensure_listener();
    if (!listener) {
      shutdown::wait_for(d);
      return false;
    }
    auto n = listener->wait_for_notify(d);
    if (!n) {
      log::warn(kComponent, "run request listener: {}", n.error().message);
      listener.reset();
      return false;
    }
    return n->has_value();
  }

  // Sleeps until t (at once when it has passed); false when shutdown was requested first.
  static bool wait_until(std::chrono::system_clock::time_point t) {
    for (auto now = std::chrono::system_clock::now(); now < t; now = std::chrono::system_clock::now())
      if (shutdown::wait_for(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(t - now),
                                      std::chrono::milliseconds(200))))
        return false;
    return !shutdown::requested();
  }

  int loop() {
    using clock = std::chrono::system_clock;
    auto first = opts.schedule->first(clock::now());
    if (!first) {
      log::error(kComponent, "{}", first.error().message);
      return 2;
    }
    auto tick = *first;
    log::info(kComponent, "scheduler {} running {}; pipeline {}", identity, opts.schedule->describe(),
              "export -> load -> dbt_build beside verify");
    bool requested = false;
    while (!shutdown::requested()) {
      beat();
      {
        std::lock_guard lock(state_mu);
        next_tick = tick;
      }
      const auto now = clock::now();
      // A scheduled run takes its lock and starts dbt this much before its tick (prewarm.h).
      const auto lead = opts.pipeline.dbt.prewarm ? opts.pipeline.dbt.prewarm_lead : std::chrono::seconds(0);
      if (now + lead >= tick) {
        run_once("schedule", tick);
        auto nt = opts.schedule->next(tick, clock::now());
        if (!nt) {
          log::error(kComponent, "{}", nt.error().message);
          return 2;
        }
        tick = *nt;
        requested = false;
        continue;
      }
      if (requested) {
        requested = false;
        run_once("manual");
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(tick - lead - now);
      requested = wait(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(1000)));
    }
    log::info(kComponent, "shutting down");
    return 0;
  }
};

Scheduler::Scheduler(Config cfg, SchedulerOptions opts)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(opts))) {}
Scheduler::~Scheduler() = default;

int Scheduler::run() {
  auto& im = *impl_;
  std::unique_ptr<httpd::Server> server;
  if (im.opts.serve_http) {
    httpd::ServerOptions so;
    so.bind_address = im.opts.bind_address;
    so.port = im.opts.port;
    so.io_threads = 1;
    so.worker_threads = 1;
    so.health = [&im] { return im.health(); };
    // The lag grows while a run is busy too, when the loop does not turn.
    so.before_metrics = [&im] { im.freshness.tick(unix_seconds(std::chrono::system_clock::now())); };
    server = std::make_unique<httpd::Server>(so);
    if (auto st = server->start(); !st) {
      log::error(kComponent, "listen {}:{}: {}", im.opts.bind_address, im.opts.port, st.error().message);
      return 2;
    }
    log::info(kComponent, "/healthz and /metrics on http://{}:{}/", im.opts.bind_address, server->port());
  }
  im.restore_freshness();
  im.beat();
  int code = 0;
  if (im.opts.once) {
    const RunOutcome outcome = im.run_once("once");
    switch (outcome) {
      case RunOutcome::kSuccess:
        code = 0;
        break;
      case RunOutcome::kFailed:
        code = 1;
        break;
      case RunOutcome::kError:
        code = 2;
        break;
      case RunOutcome::kLocked:
        code = 3;
        break;
    }
    // A run cut short by SIGINT/SIGTERM is recorded failed, but the command says it was interrupted.
    if (outcome != RunOutcome::kSuccess && shutdown::requested()) code = cli::kExitInterrupted;
  } else {
    code = im.loop();
  }
  if (server) server->stop();
  return code;
}

}  // namespace fp::sched
