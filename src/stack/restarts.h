// When the supervisor restarts a part that died, and when it gives up on one.
//
// Each death waits min(cap, base * 2^n) before the restart, n counting the deaths since the part last ran
// for `stable_after`, with "equal jitter" (a random point in the upper half of that delay): parts that died
// together (an engine and the services using it) do not come back in lockstep, and a crash loop slows down
// instead of spinning. `max_deaths` deaths within `window` mark the part failed: it stays down, with its last
// log lines, until `fleetpipe up` starts it again. Deaths while another part is being restarted do not
// count toward that: a part that fails because what it depends on is restarting is not the one that is
// broken.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <random>

namespace fp::stack {

struct RestartPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{30000};
  int max_deaths = 5;
  std::chrono::seconds window{120};
  std::chrono::seconds stable_after{60};
};

class RestartTracker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RestartTracker(RestartPolicy policy = {}) : policy_(policy) {}

  // The part died at `now`, having run since `started`. Returns the delay before its restart, or nullopt
  // when it has now died max_deaths times within the window and is failed. A death that does not `count`
  // (it died while another part was down: a service whose database is restarting) backs off the same but
  // does not bring the part nearer to failed.
  std::optional<std::chrono::milliseconds> died(Clock::time_point now, Clock::time_point started,
                                                std::mt19937_64& rng, bool count = true);

  // Restarts made so far (deaths that were not the last straw).
  int restarts() const { return restarts_; }
  bool failed() const { return failed_; }
  // Deaths counted inside the window at the last death.
  int recent_deaths() const { return static_cast<int>(deaths_.size()); }

 private:
  RestartPolicy policy_;
  std::deque<Clock::time_point> deaths_;  // within the window of the latest one
  int streak_ = 0;                        // deaths since the part last ran for stable_after
  int restarts_ = 0;
  bool failed_ = false;
};

}  // namespace fp::stack
