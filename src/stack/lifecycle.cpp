#include "stack/lifecycle.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <thread>

#include "common/log.h"
#include "common/shutdown.h"
#include "stack/disk_growth.h"
#include "stack/pgadmin.h"
#include "stack/ports.h"
#include "stack/services.h"
#include "stack/supervision_file.h"
#include "stack/supervisor.h"

namespace fp::stack {
namespace {

using Clock = std::chrono::steady_clock;

Status wait_healthy(Context& ctx, Component& c, const ProcessId& id) {
  const auto deadline = Clock::now() + c.start_timeout();
  Status last = transient_error("not checked yet");
  while (Clock::now() < deadline) {
    if (!is_running(id))
      return make_error("{} exited during start-up (see {})", c.name(), ctx.log_file(c.name()).string());
    last = c.health(ctx);
    if (last.ok()) return ok_status();
    if (shutdown::wait_for(std::chrono::milliseconds(250))) return make_error("{}: interrupted", c.name());
  }
  return make_error("{} not healthy within {} s: {} (see {})", c.name(), c.start_timeout().count(),
                    last.error().message, ctx.log_file(c.name()).string());
}

Status start_one(Context& ctx, Component& c) {
  const auto pid_path = ctx.pid_file(c.name());
  if (auto id = read_pid_file(pid_path)) {
    if (is_running(*id)) {
      FP_CHECK(wait_healthy(ctx, c, *id), "already running");
      log::info("stack", "{} already running (pid {})", c.name(), id->pid);
      return ok_status();
    }
    log::warn("stack", "{}: pid file {} is stale (process {} is gone); restarting", c.name(),
              pid_path.string(), id->pid);
    c.kill_leftovers(ctx, *id);
    std::error_code ec;
    std::filesystem::remove(pid_path, ec);
  }
  for (int port : c.ports())
    if (tcp_accepts("127.0.0.1", port, std::chrono::milliseconds(300)))
      return make_error("cannot start {}: {}", c.name(), describe_port_conflict(port));
  const auto t0 = Clock::now();
  const auto id = FP_TRY(launch(ctx, c), "up");
  auto healthy = wait_healthy(ctx, c, id);
  if (!healthy.ok()) {
    // Leave nothing half-started behind: the next `up` starts from a clean slate.
    terminate(id, c.stop_grace());
    std::error_code ec;
    std::filesystem::remove(pid_path, ec);
    return healthy;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  log::emit(log::Level::kInfo, "stack", fmt::format("{} healthy at {}", c.name(), c.address()),
            {{"part", c.name()}, {"pid", id.pid}, {"start_ms", ms}});
  return ok_status();
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What the supervisor's file says of a part whose process is gone: being restarted, or given up on.
void apply_supervision(const PartSupervision& sup, bool supervisor_running, PartStatus& s) {
  s.restarts = sup.restarts;
  if (s.state != "crashed" || !supervisor_running) return;
  if (sup.phase == "failed") {
    s.state = "failed";
    std::string tail;
    for (const auto& l : sup.log_tail) tail += "\n    " + l;
    s.detail = fmt::format(
        "kept dying ({} restarts, last: {}); the supervisor gave up, `fleetpipe up` "
        "starts it again. Last lines of its log:{}",
        sup.restarts, sup.last_exit, tail);
  } else if (sup.phase == "backoff") {
    s.state = "restarting";
    s.detail = fmt::format("{}; the supervisor restarts it in {:.0f} s (restart {})", sup.last_exit,
                           std::max(0.0, sup.restart_at_unix - unix_now()), sup.restarts + 1);
  } else if (sup.phase == "starting") {
    s.state = "restarting";
    s.detail =
        fmt::format("{}; restarted by the supervisor (restart {}), starting", sup.last_exit, sup.restarts);
  }
}

}  // namespace

Result<StateLock> StateLock::acquire(const std::filesystem::path& state) {
  for (int i = 0;; ++i) {
    auto got = FP_TRY(try_acquire(state), "state lock");
    if (got) return std::move(*got);
    if (i == 0) log::info("stack", "waiting for another fleetpipe up/down on {}", state.string());
    if (i > 600 || shutdown::requested())
      return make_error("another fleetpipe up/down holds {}", (state / "run" / "supervisor.lock").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::optional<StateLock>> StateLock::try_acquire(const std::filesystem::path& state) {
  std::error_code ec;
  std::filesystem::create_directories(state / "run", ec);
  const auto path = state / "run" / "supervisor.lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("open {}: {}", path.string(), std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return std::optional<StateLock>();
  }
  return std::optional<StateLock>(StateLock(fd));
}

StateLock::StateLock(StateLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

StateLock::~StateLock() {
  if (fd_ >= 0) close(fd_);
}

std::vector<std::unique_ptr<Component>> all_parts(const Context& ctx) {
  auto parts = make_components(ctx);
  parts.push_back(std::make_unique<PgAdmin>(ctx));
  for (auto& s : make_services(ctx)) parts.push_back(std::move(s));
  parts.push_back(make_supervisor_part(ctx));
  return parts;
}

void Component::kill_leftovers(Context&, const ProcessId& leader) {
  if (signal_group(leader, SIGKILL))
    log::warn("stack", "{}: killed what was left of its process group", name());
}

Result<ProcessId> launch(Context& ctx, Component& c) {
  FP_CHECK(c.prepare(ctx), "prepare " + c.name());
  const auto spec = FP_TRY(c.spawn_spec(ctx), "start " + c.name());
  const auto id = FP_TRY(spawn(spec), "start " + c.name());
  FP_CHECK(write_pid_file(ctx.pid_file(c.name()), id), c.name());
  return id;
}

Status up(Context& ctx, const UpOptions& opts) {
  FP_CHECK(ensure_credentials_file(ctx.state()), "credentials");
  // Secrets generated just now must be visible to this process's configuration too.
  ctx.cfg = FP_TRY(Config::load(), "reload configuration");
  auto lock = FP_TRY(StateLock::acquire(ctx.state()), "up");
  auto parts = make_components(ctx);
  for (auto& c : parts) {
    if (shutdown::requested()) return make_error("up interrupted");
    FP_CHECK(start_one(ctx, *c), "up");
  }
  if (opts.provision) {
    for (auto& c : parts) {
      const auto t0 = Clock::now();
      FP_CHECK(c->provision(ctx), "provision " + c->name());
      log::debug("stack", "provisioned {} in {} ms", c->name(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
    }
    // Whether the retention just applied fits the disk at the rate the stores grow (warnings only).
    warn_disk_growth(ctx);
  }
  if (opts.with_pgadmin) {
    // After provisioning: the servers it registers are the databases just created.
    PgAdmin pgadmin(ctx);
    FP_CHECK(start_one(ctx, pgadmin), "up");
  }
  if (opts.with_services) {
    for (auto& s : make_services(ctx)) {
      if (shutdown::requested()) return make_error("up interrupted");
      FP_CHECK(start_one(ctx, *s), "up");
    }
  }
  // Last: from here on, whatever this state directory started is restarted when it dies.
  auto supervisor = make_supervisor_part(ctx);
  FP_CHECK(start_one(ctx, *supervisor), "up");
  return ok_status();
}

Status down(Context& ctx) {
  auto lock = FP_TRY(StateLock::acquire(ctx.state()), "down");
  auto parts = all_parts(ctx);
  std::string failures;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    auto& c = **it;
    const auto pid_path = ctx.pid_file(c.name());
    auto id = read_pid_file(pid_path);
    if (!id) continue;
    if (is_running(*id)) {
      log::info("stack", "stopping {} (pid {})", c.name(), id->pid);
      // PostgreSQL: SIGINT is its "fast" shutdown (roll back sessions, checkpoint, exit); SIGTERM would be
      // "smart" and wait for every client to disconnect. The JVMs run their shutdown hooks on SIGTERM.
      const int sig = c.name().rfind("postgres", 0) == 0 ? SIGINT : SIGTERM;
      if (!terminate(*id, c.stop_grace(), sig)) {
        log::warn("stack", "{} did not stop within {} ms; killed", c.name(), c.stop_grace().count());
        failures += " " + c.name();
      }
    }
    c.kill_leftovers(ctx, *id);
    std::error_code ec;
    std::filesystem::remove(pid_path, ec);
  }
  std::error_code ec;
  std::filesystem::remove(supervision_path(ctx), ec);  // restart counts start again with the next `up`
  if (!failures.empty()) return make_error("had to kill:{}", failures);
  return ok_status();
}

std::vector<PartStatus> status(Context& ctx) {
  std::vector<PartStatus> out;
  const auto supervision = read_supervision(supervision_path(ctx));
  const auto supervisor = read_pid_file(ctx.pid_file(kSupervisorName));
  const bool supervisor_running = supervisor && is_running(*supervisor);
  for (auto& c : all_parts(ctx)) {
    PartStatus s;
    s.name = c->name();
    s.address = c->address();
    s.state = "stopped";
    s.optional = c->optional();
    auto id = read_pid_file(ctx.pid_file(c->name()));
    if (id && is_running(*id)) {
      s.pid = id->pid;
      s.rss_bytes = tree_rss_bytes(id->pid);
      auto h = c->health(ctx);
      if (h.ok()) h = c->condition(ctx, &s.warnings);
      s.state = !h.ok() ? "unhealthy" : s.warnings.empty() ? "healthy" : "warning";
      if (!h.ok()) s.detail = h.error().message;
      for (const auto& w : s.warnings) s.detail += (s.detail.empty() ? "" : "; ") + w;
    } else if (id) {
      s.state = "crashed";
      s.detail = fmt::format("pid {} from {} is gone; `fleetpipe up` restarts it", id->pid,
                             ctx.pid_file(c->name()).string());
    } else {
      for (int port : c->ports())
        if (tcp_accepts("127.0.0.1", port, std::chrono::milliseconds(300))) {
          s.state = "foreign";
          s.detail = describe_port_conflict(port) + ", not started by this state directory";
          break;
        }
    }
    if (supervision)
      if (auto it = supervision->parts.find(c->name()); it != supervision->parts.end())
        apply_supervision(it->second, supervisor_running, s);
    out.push_back(std::move(s));
  }
  return out;
}

bool all_healthy(const std::vector<PartStatus>& parts) {
  return std::all_of(parts.begin(), parts.end(), [](const PartStatus& p) {
    // A warning is a part that works now: worth a look, not a failure.
    return p.state == "healthy" || p.state == "warning" || (p.optional && p.state == "stopped");
  });
}

nlohmann::json to_json(const std::vector<PartStatus>& parts) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : parts)
    arr.push_back({{"name", p.name},
                   {"address", p.address},
                   {"state", p.state},
                   {"detail", p.detail},
                   {"pid", p.pid},
                   {"rss_bytes", p.rss_bytes},
                   {"restarts", p.restarts},
                   {"optional", p.optional},
                   {"warnings", p.warnings}});
  return arr;
}

}  // namespace fp::stack
