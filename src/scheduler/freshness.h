// Warehouse freshness: how far the marts lag behind the source. A dbt build that succeeded holds every
// source transaction that the export runs loaded before it had seen; their newest snapshot time
// (raw.load_runs.source_snapshot_at) is the marts' "as of", and now minus it the lag, which keeps growing
// while builds fail or nothing is loaded. Shown as a gauge on /metrics, in /healthz and in the dbt_build
// step's detail (which the console reads), judged against warn and error thresholds.
#pragma once

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/metrics.h"
#include "common/pg/connection.h"

namespace fp::sched {

struct FreshnessThresholds {
  std::chrono::seconds warn{std::chrono::seconds(120)};
  std::chrono::seconds error{std::chrono::seconds(300)};
};

// "ok", "warn" or "error" for a lag in seconds; "unknown" when nothing was built yet.
std::string freshness_state(std::optional<double> lag_seconds, const FreshnessThresholds& t);

// The newest source snapshot time (Unix seconds) among the export runs the warehouse has loaded; nullopt
// when none carries one. Read before a build, it is the as-of of what the build will see.
Result<std::optional<double>> loaded_source_as_of(pg::Connection& dw);

// The as-of recorded by the newest successful dbt_build step (so a restarted scheduler reports the lag of
// marts built before it started).
Result<std::optional<double>> last_built_as_of(pg::Connection& dw);

class Freshness {
 public:
  Freshness(metrics::Registry& reg, FreshnessThresholds t);
  void built(double source_as_of);  // after a successful build
  void tick(double now);            // refreshes the lag gauge
  // {"as_of": unix, "lag_seconds", "state", "warn_seconds", "error_seconds"}
  nlohmann::json describe(double now) const;
  const FreshnessThresholds& thresholds() const { return t_; }

 private:
  FreshnessThresholds t_;
  metrics::Gauge& as_of_;
  metrics::Gauge& lag_;
  mutable std::mutex mu_;
  std::optional<double> as_of_value_;
};

}  // namespace fp::sched
