#include "common/trip/partitions.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace fp::trip {

PartitionMinutes::Due PartitionMinutes::due(std::span<const int64_t> times, Clock::time_point now) {
  Due out;
  for (int64_t t : times) {
    const int64_t minute = (t >= 0 ? t : t - 59) / 60;  // floor, also before 1970
    auto [it, fresh] = asked_.try_emplace(minute, now);
    if (!fresh) {
      if (now - it->second < remember_) continue;
      it->second = now;
    }
    out.minutes.push_back(minute);
    out.text.push_back(
        fmt::format("{:%Y-%m-%d %H:%M:00}", fmt::gmtime(static_cast<std::time_t>(minute * 60))));
  }
  // Forget what is long past, so a writer replaying years of history keeps a bounded memory.
  if (asked_.size() > 4096)
    std::erase_if(asked_, [&](const auto& kv) { return now - kv.second >= remember_; });
  return out;
}

void PartitionMinutes::forget(const std::vector<int64_t>& minutes) {
  for (int64_t m : minutes) asked_.erase(m);
}

}  // namespace fp::trip
