#include "common/retry.h"

#include <algorithm>

#include "common/shutdown.h"

namespace fp {

std::chrono::milliseconds Backoff::delay(int attempt, std::mt19937_64& rng) const {
  const auto exp = base.count() * (int64_t{1} << std::min(attempt, 30));
  const auto ceiling = std::min<int64_t>(cap.count(), exp);
  std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(ceiling, 1));
  return std::chrono::milliseconds(dist(rng));
}

bool interruptible_sleep(std::chrono::milliseconds d) {
  return !shutdown::wait_for(d);
}

}  // namespace fp
