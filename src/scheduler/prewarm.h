// A `dbt build` started with the run, before export and load, so that dbt's start-up (Python imports and
// the project's parse: 4-5 s on a busy machine) overlaps them instead of following them.
//
// The build must not read the warehouse before the load has finished: the scheduler closes the load gate
// (a session advisory lock, `fleetpipe.load_gate`, on a connection of its own) before starting dbt, and the
// project's on-run-start hook (dbt/dbt_project.yml) waits for the gate with a shared lock before any model
// runs. The dbt_build step opens the gate once load has succeeded and then follows the child it finds
// running. If load fails the build is cancelled (its process group killed) before a model has run; a
// scheduler that dies releases the gate with its connection, and the build it started then runs on what is
// loaded, like any manual build. A dbt started by hand while a run holds the gate waits for that run's load.
// A scheduled run starts its build a few seconds before its tick (DbtOptions::prewarm_lead), holding the
// scheduler's run lock from then on, so dbt is ready by the time export and load are done.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "common/config.h"
#include "common/error.h"
#include "common/pg/connection.h"
#include "scheduler/child.h"

namespace fp::sched {

class PrewarmedBuild {
 public:
  // Closes the gate, then starts the child. nullptr (and a logged reason) when the gate cannot be closed:
  // the run then starts dbt after load as before.
  static std::unique_ptr<PrewarmedBuild> start(const Config& cfg, ChildOptions child);
  ~PrewarmedBuild();  // cancels a build nobody took

  PrewarmedBuild(const PrewarmedBuild&) = delete;
  PrewarmedBuild& operator=(const PrewarmedBuild&) = delete;

  // Opens the gate and waits for the child; nullopt when it was already taken or cancelled (the caller then
  // starts dbt itself). Called once load has succeeded, by one thread at a time with cancel().
  std::optional<Result<ChildResult>> take();

  // Stops a build that was not taken (load failed or the run was interrupted) and waits for it to end.
  void cancel();

  // When its dbt was started.
  std::chrono::system_clock::time_point started_at() const { return started_at_; }

 private:
  explicit PrewarmedBuild(pg::Connection gate) : gate_(std::move(gate)) {}
  void open_gate();

  std::optional<pg::Connection> gate_;  // holds the gate's lock until opened (closing it also opens it)
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  std::future<Result<ChildResult>> child_;
  bool done_ = false;  // taken or cancelled
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
};

}  // namespace fp::sched
