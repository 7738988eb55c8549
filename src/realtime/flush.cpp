// The fan-out tick: every `tick`, the changes the consumer folded into the state since the last one are cut
// as one batch, rendered once and sent to every viewer (with a shared snapshot for viewers that need one).
// Its own file because it is the only writer to the viewers, on its own thread.
#include <algorithm>

#include "realtime/service_impl.h"

namespace fp::realtime {

void RealtimeService::Impl::flush_once() {
  httpd::SseFrame changes;
  httpd::SseFrame snapshot;
  bool resync_all = false;
  DeltaBatch::Rendered rendered;
  {
    std::lock_guard lock(mu);
    if (fanout.viewer_count() == 0) {
      batch.clear();  // nobody to render for; a viewer who joins starts from a snapshot anyway
      return;
    }
    resync_all = batch.overflowed();
    if (!batch.empty()) rendered = batch.take(state, now_ms());
    // A snapshot is megabytes: viewers that need one within snapshot_interval share one version (an
    // unchanged state reuses the cached one at once), so lagging viewers never pin one copy each.
    const bool cached = !snapshot_cache.expired() && snapshot_version == state.version();
    if ((resync_all || fanout.wants_snapshot()) &&
        (cached || std::chrono::steady_clock::now() - snapshot_built >= options.snapshot_interval)) {
      snapshot = snapshot_locked();
    }
  }
  if (!rendered.json.empty()) {
    changes = httpd::sse_frame("changes", rendered.json);
    batches.inc();
  }
  auto stats = fanout.tick(changes, snapshot, resync_all);
  viewer_gauge.set(static_cast<double>(stats.viewers));
  if (stats.overflowed > 0) resyncs.inc(static_cast<double>(stats.overflowed));
  const int64_t sent = now_ms();
  for (int64_t ts : rendered.live_source_ts_ms) {
    delivery_latency.observe(static_cast<double>(sent - ts) / 1000.0);
  }
}

void RealtimeService::Impl::flush_loop() {
  auto next = std::chrono::steady_clock::now();
  while (true) {
    next += options.tick;
    {
      std::unique_lock lock(stop_mu);
      if (stop_cv.wait_until(lock, next, [this] { return stopping.load(); })) return;
    }
    flush_once();
    // After a stall (a busy machine) tick again at once, but never queue up missed ticks.
    next = std::max(next, std::chrono::steady_clock::now() - options.tick);
  }
}

}  // namespace fp::realtime
