#include "scheduler/freshness.h"

namespace fp::sched {

std::string freshness_state(std::optional<double> lag, const FreshnessThresholds& t) {
  if (!lag) return "unknown";
  if (*lag >= static_cast<double>(t.error.count())) return "error";
  if (*lag >= static_cast<double>(t.warn.count())) return "warn";
  return "ok";
}

namespace {
Result<std::optional<double>> optional_double(pg::Connection& dw, const char* sql, const char* what) {
  auto r = FP_TRY(dw.query(sql), what);
  if (r.empty()) return std::optional<double>{};
  return FP_TRY(r.get<std::optional<double>>(0, 0), what);
}
}  // namespace

Result<std::optional<double>> loaded_source_as_of(pg::Connection& dw) {
  return optional_double(dw, "SELECT extract(epoch FROM max(source_snapshot_at))::float8 FROM raw.load_runs",
                         "loaded source as-of");
}

Result<std::optional<double>> last_built_as_of(pg::Connection& dw) {
  return optional_double(dw,
                         "SELECT (detail->'freshness'->>'as_of')::float8 FROM ops.pipeline_steps "
                         "WHERE step = 'dbt_build' AND outcome = 'success' AND detail->'freshness' ? 'as_of' "
                         "ORDER BY finished_at DESC LIMIT 1",
                         "last built as-of");
}

Freshness::Freshness(metrics::Registry& reg, FreshnessThresholds t)
    : t_(t),
      as_of_(reg.gauge("fleetpipe_scheduler_warehouse_source_as_of_timestamp_seconds",
                       "Unix time of the newest source snapshot the marts were built from (0: none yet)")),
      lag_(reg.gauge("fleetpipe_scheduler_warehouse_freshness_seconds",
                     "Seconds the marts lag behind the source: now minus their source as-of (-1: unknown)")) {
  lag_.set(-1);
}

void Freshness::built(double source_as_of) {
  std::lock_guard lock(mu_);
  if (as_of_value_ && *as_of_value_ > source_as_of) return;  // never moves back
  as_of_value_ = source_as_of;
  as_of_.set(source_as_of);
}

void Freshness::tick(double now) {
  std::lock_guard lock(mu_);
  lag_.set(as_of_value_ ? std::max(0.0, now - *as_of_value_) : -1);
}

nlohmann::json Freshness::describe(double now) const {
  std::lock_guard lock(mu_);
  std::optional<double> lag;
  if (as_of_value_) lag = std::max(0.0, now - *as_of_value_);
  nlohmann::json j = {{"state", freshness_state(lag, t_)},
                      {"warn_seconds", t_.warn.count()},
                      {"error_seconds", t_.error.count()}};
  if (as_of_value_) {
    j["as_of"] = *as_of_value_;
    j["lag_seconds"] = *lag;
  }
  return j;
}

}  // namespace fp::sched
