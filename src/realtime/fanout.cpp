#include "realtime/fanout.h"

#include <algorithm>

namespace fp::realtime {

using SendResult = httpd::SseStream::SendResult;

void Fanout::join(std::shared_ptr<httpd::SseStream> stream) {
  std::lock_guard lock(mu_);
  viewers_.push_back({std::move(stream), true});
}

bool Fanout::wants_snapshot() const {
  std::lock_guard lock(mu_);
  return std::any_of(viewers_.begin(), viewers_.end(), [](const Viewer& v) {
    return v.needs_snapshot && !v.stream->closed() && v.stream->queued_bytes() == 0;
  });
}

Fanout::TickStats Fanout::tick(const httpd::SseFrame& changes, const httpd::SseFrame& snapshot,
                               bool resync_all) {
  TickStats stats;
  std::lock_guard lock(mu_);
  std::erase_if(viewers_, [&](Viewer& v) {
    if (resync_all) v.needs_snapshot = true;
    SendResult r = SendResult::kQueued;
    if (v.needs_snapshot) {
      // Until it has its snapshot a viewer gets no changes: the snapshot will contain them.
      if (snapshot && v.stream->queued_bytes() == 0) {
        r = v.stream->send_frame(snapshot);
        if (r == SendResult::kQueued) {
          v.needs_snapshot = false;
          ++stats.snapshots;
        }
      } else if (v.stream->closed()) {
        r = SendResult::kClosed;
      }
    } else if (changes) {
      r = v.stream->send_frame(changes);
      if (r == SendResult::kOverflow) {
        v.needs_snapshot = true;
        ++stats.overflowed;
      }
    } else if (v.stream->closed()) {
      r = SendResult::kClosed;
    }
    if (r == SendResult::kClosed) {
      ++stats.closed;
      return true;
    }
    return false;
  });
  stats.viewers = viewers_.size();
  return stats;
}

size_t Fanout::viewer_count() const {
  std::lock_guard lock(mu_);
  return viewers_.size();
}

}  // namespace fp::realtime
