#include "stack/restarts.h"

#include <algorithm>

namespace fp::stack {

std::optional<std::chrono::milliseconds> RestartTracker::died(Clock::time_point now,
                                                              Clock::time_point started, std::mt19937_64& rng,
                                                              bool count) {
  if (now - started >= policy_.stable_after) streak_ = 0;
  if (count) deaths_.push_back(now);
  while (!deaths_.empty() && now - deaths_.front() > policy_.window) deaths_.pop_front();
  if (static_cast<int>(deaths_.size()) >= policy_.max_deaths) {
    failed_ = true;
    return std::nullopt;
  }
  // base * 2^streak, computed without overflow: the doubling stops at the cap.
  auto full = policy_.base;
  for (int i = 0; i < streak_ && full < policy_.cap; ++i) full *= 2;
  full = std::min(full, policy_.cap);
  ++streak_;
  ++restarts_;
  std::uniform_int_distribution<int64_t> upper_half(full.count() / 2, full.count());
  return std::chrono::milliseconds(upper_half(rng));
}

}  // namespace fp::stack
