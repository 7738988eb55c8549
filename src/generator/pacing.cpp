#include "generator/pacing.h"

#include <algorithm>
#include <thread>

#include "common/shutdown.h"

namespace fp::gen {

std::optional<std::chrono::nanoseconds> Pacer::due(uint64_t index, int64_t ts) {
  using std::chrono::nanoseconds;
  auto seconds = [](double s) { return nanoseconds(static_cast<int64_t>(s * 1e9)); };
  switch (p_.mode) {
    case Pacing::Mode::kBulk:
      return std::nullopt;
    case Pacing::Mode::kInterval:
      return seconds(static_cast<double>(index) * p_.interval_s);
    case Pacing::Mode::kRate:
      return seconds(static_cast<double>(index) / p_.rate);
    case Pacing::Mode::kSpeedup: {
      if (!first_ts_) first_ts_ = ts;
      last_ = std::max(last_, seconds(static_cast<double>(ts - *first_ts_) / p_.speedup));
      return last_;
    }
  }
  return std::nullopt;
}

bool wait_until(Pacer::Clock::time_point target) {
  using std::chrono::milliseconds;
  while (Pacer::Clock::now() < target) {
    if (shutdown::requested()) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(target - Pacer::Clock::now());
    if (left > milliseconds(2))
      shutdown::wait_for(left - milliseconds(2));
    else
      std::this_thread::sleep_until(target);
  }
  return !shutdown::requested();
}

}  // namespace fp::gen
