// When each row is due. Schedules are absolute (start + i / rate, not "sleep 1/rate after each row"), so
// time spent writing never accumulates into drift: a late row is followed by rows that catch up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace fp::gen {

struct Pacing {
  enum class Mode { kBulk, kInterval, kRate, kSpeedup } mode = Mode::kInterval;
  double interval_s = 1.0;  // kInterval: seconds between rows
  double rate = 0;          // kRate: rows per second
  double speedup = 1;       // kSpeedup: measurement time runs this many times faster than the wall clock
};

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Pacer(Pacing p) : p_(p) {}

  // The offset from the start of the run at which row `index` (0-based, counted from the start of this
  // run) with measurement time `ts` is due; nullopt in bulk mode (due at once). In speedup mode the first
  // row's time is the origin and a timestamp going backwards is due at once (never before the last row).
  std::optional<std::chrono::nanoseconds> due(uint64_t index, int64_t ts);

 private:
  Pacing p_;
  std::optional<int64_t> first_ts_;
  std::chrono::nanoseconds last_{0};
};

// Sleeps until `target`, or until shutdown is requested (then returns false). Waits longer than a few
// milliseconds can be cut short by a signal; the rest is slept, never spun: at 2 000 rows/s every wait is
// under a millisecond, and a yield loop there burned a whole core.
bool wait_until(Pacer::Clock::time_point target);

}  // namespace fp::gen
