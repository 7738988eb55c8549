#include "realtime/source_watch.h"

namespace fp::realtime {

void SourceWatch::observe(const std::string& marker, uint64_t events, Clock::time_point now) {
  if (seen_) {
    // The change was committed after the previous look: an event counted since then may be its own, and
    // any event at all shows the stream moving.
    if (marker != marker_ && !pending_) {
      pending_ = true;
      since_ = now;
      events_mark_ = events_;
    }
    if (pending_ && events > events_mark_) pending_ = false;
  }
  seen_ = true;
  marker_ = marker;
  events_ = events;
}

std::chrono::milliseconds SourceWatch::pending_for(Clock::time_point now) const {
  if (!pending_ || now < since_) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since_);
}

}  // namespace fp::realtime
