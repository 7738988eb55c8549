// Retries with exponential backoff and full jitter (delay = rand(0, min(cap, base * 2^attempt))), the scheme
// that spreads retrying clients apart instead of letting them hammer a recovering server in lockstep.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string_view>
#include <thread>

#include "common/error.h"
#include "common/log.h"

namespace fp {

struct Backoff {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{5000};
  int max_attempts = 8;

  // The delay before retry number `attempt` (0-based), drawn with full jitter.
  std::chrono::milliseconds delay(int attempt, std::mt19937_64& rng) const;
};

// Sleeps that end early when shutdown is requested; returns false if shutdown interrupted the sleep.
bool interruptible_sleep(std::chrono::milliseconds d);

// Calls fn until it succeeds, fails with a non-transient error, attempts run out, or shutdown is requested.
template <typename T>
Result<T> retry(std::string_view what, const Backoff& policy, const std::function<Result<T>()>& fn) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 0;; ++attempt) {
    Result<T> r = fn();
    if (r.ok() || !r.error().transient() || attempt + 1 >= policy.max_attempts) {
      if (!r.ok() && r.error().transient())
        return r.error().context(fmt::format("{} (gave up after {} attempts)", what, attempt + 1));
      return r;
    }
    auto d = policy.delay(attempt, rng);
    log::warn("retry", "{} failed (attempt {}/{}): {}; retrying in {} ms", what, attempt + 1,
              policy.max_attempts, r.error().message, d.count());
    if (!interruptible_sleep(d)) return r.error().context(fmt::format("{} (interrupted by shutdown)", what));
  }
}

}  // namespace fp
