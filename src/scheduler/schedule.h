// When the scheduler runs: a fixed interval ("60s", "5m", "1h", "500ms") or a cron expression.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "scheduler/cron.h"

namespace fp::sched {

// "<number><unit>" with unit ms, s, m or h; a bare number is seconds. At least 1 s, at most 24 h.
Result<std::chrono::milliseconds> parse_interval(std::string_view text);

class Schedule {
 public:
  static Schedule every(std::chrono::milliseconds interval) { return Schedule(interval, std::nullopt); }
  static Schedule cron(CronExpr expr) { return Schedule(std::chrono::milliseconds(0), std::move(expr)); }

  // The first tick: now for an interval (run at start), the next matching minute for cron.
  Result<std::chrono::system_clock::time_point> first(std::chrono::system_clock::time_point now) const;
  // The next tick after `previous` that is later than `now` (ticks missed while a run overran are dropped).
  Result<std::chrono::system_clock::time_point> next(std::chrono::system_clock::time_point previous,
                                                     std::chrono::system_clock::time_point now) const;
  std::string describe() const;

 private:
  Schedule(std::chrono::milliseconds i, std::optional<CronExpr> c) : interval_(i), cron_(std::move(c)) {}
  std::chrono::milliseconds interval_;
  std::optional<CronExpr> cron_;
};

}  // namespace fp::sched
