#include "stack/supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>

#include "common/files.h"
#include "common/http/server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/shutdown.h"
#include "stack/lifecycle.h"
#include "stack/services.h"
#include "stack/supervision_file.h"

namespace fp::stack {
namespace {

constexpr const char* kComponent = "supervisor";
constexpr size_t kLogTailLines = 20;
// How long a restart waits, past its backoff, for the dead process to leave the process table.
constexpr std::chrono::seconds kZombieWait{5};
using Clock = std::chrono::steady_clock;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double unix_in(std::chrono::milliseconds d) {
  return unix_now() + std::chrono::duration<double>(d).count();
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "ended";
}

// The supervisor is a fleetpipe service that must run: `status` is not healthy without it.
class SupervisorPart : public FleetpipeService {
 public:
  SupervisorPart()
      : FleetpipeService(kSupervisorName,
                         {"supervise", "--listen", fmt::format("127.0.0.1:{}", kSupervisorPort)},
                         fmt::format("http://127.0.0.1:{}/metrics", kSupervisorPort),
                         fmt::format("http://127.0.0.1:{}/healthz", kSupervisorPort)) {}
  bool optional() const override { return false; }
};

// One watched part: the process believed to be it, and where it is in the restart cycle.
struct Watched {
  ProcessId id;
  Clock::time_point since;  // started, or first seen
  Clock::time_point due;    // backoff: restart then; starting: give up on health then
  RestartTracker tracker;
  PartSupervision view;
};

}  // namespace

class Supervisor::Impl {
 public:
  Impl(Context& ctx, SuperviseOptions opts, std::vector<std::unique_ptr<Component>> parts)
      : ctx_(ctx), opts_(std::move(opts)), rng_(std::random_device{}()), parts_(std::move(parts)) {
    // Counts continue across a restart of the supervisor itself; `down` removes the file.
    if (auto previous = read_supervision(supervision_path(ctx_)))
      for (const auto& [name, p] : previous->parts) previous_restarts_[name] = p.restarts;
  }

  // One look at every part; returns false when the state directory was busy (an `up` or `down`).
  bool tick() {
    heartbeat_.store(Clock::now().time_since_epoch().count());
    reap_children();
    auto lock = StateLock::try_acquire(ctx_.state());
    if (!lock || !*lock) return false;
    for (auto& c : parts_) look_at(*c);
    publish();
    return true;
  }

  httpd::Health health() const {
    httpd::Health h;
    const auto last = Clock::time_point(Clock::duration(heartbeat_.load()));
    h.ok = Clock::now() - last < std::chrono::seconds(30);
    std::lock_guard lock(view_mu_);
    h.detail = to_json(view_);
    return h;
  }

 private:
  // Our own children (parts restarted by us) leave their exit status here; the others are init's.
  void reap_children() {
    int status = 0;
    for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) exits_[pid] = status;
  }

  void look_at(Component& c) {
    const auto on_file = read_pid_file(ctx_.pid_file(c.name()));
    if (!on_file) {  // never started, or stopped by `down`: not ours to keep running
      watched_.erase(c.name());
      return;
    }
    auto [it, fresh] = watched_.try_emplace(c.name());
    Watched& w = it->second;
    if (fresh || on_file->pid != w.id.pid || on_file->start_ticks != w.id.start_ticks)
      adopt(c, w, *on_file, fresh);
    const auto now = Clock::now();
    if (w.view.phase == "running" && !is_running(w.id)) {
      died(c, w, now);
    } else if (w.view.phase == "starting") {
      check_start(c, w, now);
    } else if (w.view.phase == "backoff" && now >= w.due && (vanished(w.id) || now >= w.due + kZombieWait)) {
      restart(c, w, now);
    }
  }

  // Whether a part other than `name` is being restarted (so may be why `name` died). One given up on does
  // not count: what cannot run without it is then given up on too, instead of restarting for ever.
  bool another_is_down(const std::string& name) const {
    for (const auto& [other, w] : watched_)
      if (other != name && (w.view.phase == "backoff" || w.view.phase == "starting")) return true;
    return false;
  }

  // Gone from the process table, zombie included: PostgreSQL refuses to start while the pid in its lock
  // file answers kill(pid, 0), which an unreaped zombie does (the dead part is init's child, not ours).
  static bool vanished(const ProcessId& id) {
    if (::kill(id.pid, 0) != 0 && errno == ESRCH) return true;
    const auto ticks = process_start_ticks(id.pid);
    return ticks && *ticks != id.start_ticks;  // the pid is someone else's now
  }

  // A process we did not start ourselves: the first look, or `up` started it (again, after a failure).
  void adopt(Component& c, Watched& w, const ProcessId& id, bool fresh) {
    w.id = id;
    w.since = Clock::now();
    if (fresh) w.view.restarts = previous_restarts_[c.name()];
    w.tracker = RestartTracker(opts_.policy);  // a new start by `up` (after a failure too) starts afresh
    w.view.phase = "running";
    w.view.log_tail.clear();
    w.view.restart_at_unix = 0;
  }

  void check_start(Component& c, Watched& w, Clock::time_point now) {
    if (!is_running(w.id)) return died(c, w, now);
    if (c.health(ctx_).ok()) {
      log::info(kComponent, "{} is back (pid {}, restart {})", c.name(), w.id.pid, w.view.restarts);
      w.view.phase = "running";
      return;
    }
    if (now < w.due) return;
    log::warn(kComponent, "{} not healthy within {} s of its restart; stopping it", c.name(),
              c.start_timeout().count());
    terminate(w.id, c.stop_grace());
    died(c, w, now);
  }

  // `why` when it is known otherwise than from its exit (it could not be started).
  void died(Component& c, Watched& w, Clock::time_point now, std::optional<std::string> why = std::nullopt) {
    // It may have died since this tick's reaping, and is_running may have reaped it while looking.
    reap_children();
    if (auto status = take_reaped_status(w.id.pid)) exits_[w.id.pid] = *status;
    auto exit = exits_.find(w.id.pid);
    w.view.last_exit = why ? *why : exit != exits_.end() ? describe_exit(exit->second) : "process gone";
    if (exit != exits_.end()) exits_.erase(exit);
    w.view.last_death_unix = unix_now();
    c.kill_leftovers(ctx_, w.id);  // what it left behind would hold its ports or data directory
    deaths(c.name()).inc();
    const auto delay = w.tracker.died(now, w.since, rng_, /*count=*/!another_is_down(c.name()));
    if (!delay) {
      w.view.phase = "failed";
      w.view.log_tail = last_lines(ctx_.log_file(c.name()), kLogTailLines);
      log::error(kComponent,
                 "{} {} and died {} times within {} s: not restarted again until `fleetpipe up` (see {})",
                 c.name(), w.view.last_exit, w.tracker.recent_deaths(), opts_.policy.window.count(),
                 ctx_.log_file(c.name()).string());
      return;
    }
    w.view.phase = "backoff";
    w.due = now + *delay;
    w.view.restart_at_unix = unix_in(*delay);
    log::warn(kComponent, "{} (pid {}) {}; restarting it in {} ms", c.name(), w.id.pid, w.view.last_exit,
              delay->count());
  }

  void restart(Component& c, Watched& w, Clock::time_point now) {
    ++w.view.restarts;
    restarts(c.name()).inc();
    auto id = launch(ctx_, c);
    if (!id) {
      log::error(kComponent, "restart {}: {}", c.name(), id.error().message);
      w.since = now;
      return died(c, w, now, id.error().message);
    }
    log::info(kComponent, "restarted {} (pid {}, restart {})", c.name(), id->pid, w.view.restarts);
    w.id = *id;
    w.since = now;
    w.due = now + c.start_timeout();
    w.view.phase = "starting";
    w.view.restart_at_unix = 0;
  }

  // The file and the gauges, from the watched parts.
  void publish() {
    Supervision next;
    next.updated_unix = unix_now();
    for (const auto& [name, w] : watched_) {
      next.parts[name] = w.view;
      auto& reg = metrics::default_registry();
      reg.gauge("fleetpipe_supervisor_part_running", "1 while the part runs (0: restarting or failed)",
                {{"part", name}})
          .set(w.view.phase == "running" || w.view.phase == "starting" ? 1 : 0);
      reg.gauge("fleetpipe_supervisor_part_failed", "1 when the part kept dying and is no longer restarted",
                {{"part", name}})
          .set(w.view.phase == "failed" ? 1 : 0);
    }
    const nlohmann::json now_json = to_json(next)["parts"];
    if (now_json != written_) {
      if (auto st = write_supervision(supervision_path(ctx_), next); !st)
        log::warn(kComponent, "{}", st.error().message);
      else
        written_ = now_json;
    }
    std::lock_guard lock(view_mu_);
    view_ = std::move(next);
  }

  metrics::Counter& restarts(const std::string& part) {
    return metrics::default_registry().counter("fleetpipe_supervisor_restarts_total",
                                               "Restarts of a part that died", {{"part", part}});
  }
  metrics::Counter& deaths(const std::string& part) {
    return metrics::default_registry().counter("fleetpipe_supervisor_deaths_total",
                                               "Times a watched part was found dead", {{"part", part}});
  }

  Context& ctx_;
  const SuperviseOptions opts_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Component>> parts_;
  std::map<std::string, int> previous_restarts_;
  std::map<std::string, Watched> watched_;
  std::map<pid_t, int> exits_;
  nlohmann::json written_;
  std::atomic<Clock::rep> heartbeat_{Clock::now().time_since_epoch().count()};
  mutable std::mutex view_mu_;
  Supervision view_;  // for /healthz, under view_mu_
};

Supervisor::Supervisor(Context& ctx, SuperviseOptions opts, std::vector<std::unique_ptr<Component>> parts)
    : impl_(std::make_unique<Impl>(ctx, std::move(opts), std::move(parts))) {}
Supervisor::~Supervisor() = default;
bool Supervisor::tick() {
  return impl_->tick();
}
httpd::Health Supervisor::health() const {
  return impl_->health();
}

std::filesystem::path supervision_path(const Context& ctx) {
  return ctx.state() / "run" / "supervision.json";
}

std::unique_ptr<Component> make_supervisor_part(const Context&) {
  return std::make_unique<SupervisorPart>();
}

int supervise(Context& ctx, const SuperviseOptions& opts) {
  std::vector<std::unique_ptr<Component>> parts;
  for (auto& c : all_parts(ctx))
    if (c->name() != kSupervisorName) parts.push_back(std::move(c));
  Supervisor sup(ctx, opts, std::move(parts));
  std::unique_ptr<httpd::Server> server;
  if (opts.serve_http) {
    httpd::ServerOptions so;
    so.bind_address = opts.bind_address;
    so.port = opts.port;
    so.io_threads = 1;
    so.worker_threads = 1;
    so.health = [&sup] { return sup.health(); };
    server = std::make_unique<httpd::Server>(so);
    if (auto st = server->start(); !st) {
      log::error(kComponent, "listen {}:{}: {}", opts.bind_address, opts.port, st.error().message);
      return 2;
    }
  }
  log::info(kComponent, "watching the parts of {} every {} ms", ctx.state().string(), opts.tick.count());
  while (!shutdown::requested()) {
    try {
      sup.tick();
    } catch (const std::exception& e) {  // one bad look must not end the supervision of every part
      log::error(kComponent, "tick: {}", e.what());
    }
    shutdown::wait_for(opts.tick);
  }
  log::info(kComponent, "stopping; the parts keep running");
  if (server) server->stop();
  return 0;
}

}  // namespace fp::stack
