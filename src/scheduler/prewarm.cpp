#include "scheduler/prewarm.h"

#include "common/log.h"
#include "common/shutdown.h"

namespace fp::sched {
namespace {
constexpr const char* kComponent = "scheduler";
constexpr const char* kCloseSql = "SELECT pg_try_advisory_lock(hashtext('fleetpipe.load_gate'))";
constexpr const char* kOpenSql = "SELECT pg_advisory_unlock(hashtext('fleetpipe.load_gate'))";
}  // namespace

std::unique_ptr<PrewarmedBuild> PrewarmedBuild::start(const Config& cfg, ChildOptions child) {
  pg::ConnectOptions co;
  co.statement_timeout = std::chrono::seconds(10);
  co.backoff.max_attempts = 1;
  auto conn = pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co);
  if (!conn) {
    log::warn(kComponent, "dbt starts after load: load gate: {}", conn.error().message);
    return nullptr;
  }
  auto closed = conn->query(kCloseSql);
  auto got = closed ? closed->get<bool>(0, 0) : Result<bool>(closed.error());
  if (!got || !*got) {
    // Not held: someone else holds the gate exclusively (a second scheduler cannot: runs are serialised).
    log::warn(kComponent, "dbt starts after load: load gate {}",
              got ? "held by another session" : got.error().message);
    return nullptr;
  }
  std::unique_ptr<PrewarmedBuild> b(new PrewarmedBuild(std::move(*conn)));
  // The child polls this flag as its stop request: cancel() or a shutdown kills its process group.
  auto cancelled = b->cancelled_;
  child.stop_requested = [cancelled] { return cancelled->load() || shutdown::requested(); };
  b->child_ = std::async(std::launch::async, [child = std::move(child)] { return run_child(child); });
  return b;
}

PrewarmedBuild::~PrewarmedBuild() {
  cancel();
}

void PrewarmedBuild::open_gate() {
  if (!gate_) return;
  if (auto r = gate_->query(kOpenSql); !r)
    log::warn(kComponent, "load gate: {}; closing its connection instead", r.error().message);
  gate_.reset();  // ends the session, which releases the lock whatever the unlock said
}

std::optional<Result<ChildResult>> PrewarmedBuild::take() {
  if (done_) return std::nullopt;
  done_ = true;
  open_gate();
  return child_.get();
}

void PrewarmedBuild::cancel() {
  if (done_) return;
  done_ = true;
  cancelled_->store(true);
  // Killed while it waits at the gate (or still starting): no model has run. Open the gate only after the
  // child is gone, so that nothing of this build reads a warehouse the load did not finish.
  if (auto r = child_.get(); !r) log::warn(kComponent, "cancelled dbt build: {}", r.error().message);
  open_gate();
}

}  // namespace fp::sched
