// Whether the changes the source database committed reach the stream: the realtime /healthz turns
// unhealthy when the source changed and no event has arrived for a while since (Debezium's task failed, the
// connector was deleted, the broker is gone), which a consumer that polls happily on an idle topic would
// never notice.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fp::realtime {

class SourceWatch {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SourceWatch(std::chrono::milliseconds stall_after) : stall_after_(stall_after) {}

  // One look at the source: `marker` moves whenever the captured tables change (the newest writing
  // transaction's id); `events` counts the change events received so far. A change is pending from the
  // first look that sees the marker move until an event arrives after the look before it.
  void observe(const std::string& marker, uint64_t events, Clock::time_point now);

  // How long the oldest pending change has waited (zero when none).
  std::chrono::milliseconds pending_for(Clock::time_point now) const;
  bool stalled(Clock::time_point now) const { return pending_for(now) >= stall_after_; }
  std::chrono::milliseconds stall_after() const { return stall_after_; }

 private:
  std::chrono::milliseconds stall_after_;
  bool seen_ = false;
  std::string marker_;
  uint64_t events_ = 0;  // at the last look
  bool pending_ = false;
  Clock::time_point since_{};
  uint64_t events_mark_ = 0;  // events at the look before the change was seen
};

}  // namespace fp::realtime
