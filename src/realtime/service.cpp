// `fleetpipe realtime`'s lifecycle: the service's metrics, its start (the database rebuild, then the
// consumer, lag and flush threads, then the HTTP server) and its orderly stop. The parts live beside it:
// http_side.cpp, consume.cpp, flush.cpp and rebuild.cpp; service_impl.h declares what they share.
#include "realtime/service.h"

#include "common/log.h"
#include "realtime/rebuild.h"
#include "realtime/service_impl.h"

namespace fp::realtime {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RealtimeService::Impl::Impl(const Config& cfg, RealtimeOptions opts)
    : config(cfg),
      options(std::move(opts)),
      server(server_options()),
      state(options.track_limit),
      malformed(registry.counter("fp_realtime_malformed_events_total",
                                 "Change events that could not be parsed (logged and skipped)")),
      tombstones(registry.counter("fp_realtime_tombstones_total", "Tombstone records seen")),
      viewer_gauge(registry.gauge("fp_realtime_viewers", "Connected dashboard viewers (SSE streams)")),
      lag_gauge(registry.gauge("fp_realtime_consumer_lag", "Messages not yet consumed, all partitions")),
      rate_gauge(registry.gauge("fp_realtime_events_per_second", "Events consumed per second, recent")),
      vehicles_gauge(registry.gauge("fp_realtime_vehicles", "Vehicles on the dashboard")),
      delivery_latency(registry.histogram(
          "fp_realtime_delivery_latency_seconds",
          "From the source commit (payload.source.ts_ms; the record time on the direct topic) to the push "
          "to the viewers",
          {}, metrics::exponential_buckets(0.005, 2, 14))),
      resyncs(registry.counter("fp_realtime_viewer_resyncs_total",
                               "Viewers that fell too far behind: their pending changes were replaced "
                               "by a snapshot")),
      batches(registry.counter("fp_realtime_batches_total", "Change batches sent to the viewers")) {
  lag_gauge.set(
      -1);  // not sampled yet: a reader waiting for "caught up" must not see 0 before the first sample
  source_watch = SourceWatch(options.source_stall_after);
  if (options.group_id.empty()) {
    options.group_id = options.source == Source::kCdc ? "fleetpipe-realtime" : "fleetpipe-realtime-direct";
  }
}

void RealtimeService::Impl::rebuild() {
  // The topics' end is taken before the database is read: every event before it is of a change the
  // rebuilt state already holds, so a group new to the topics starts there. Without it, a new group
  // replayed the topics' whole history (millions of events on a used stack) over the rebuilt state,
  // showing long-deleted vehicles until it caught up; a start at the end as of after the rebuild
  // would miss changes committed while the rebuild ran.
  // Only the change topics are of the database itself: the direct topic may hold rows that were never
  // written there (a generator with only the Kafka sink), so it is still read from its start.
  auto ends =
      options.source == Source::kCdc
          ? topic_ends()
          : Result<PartitionOffsets>(make_error("the direct topic is not a change stream of the database"));
  RebuildOptions ro;
  ro.schema = options.schema;
  ro.track_points = options.track_limit;
  ro.track_window = options.rebuild_track_window;
  ro.track_vehicles = options.rebuild_track_vehicles;
  auto rows = rebuild_from_database(config.webapp_as(DbService::kRealtime), ro, mu, state);
  // The topics will fill the map as well; a database that is down must not keep the dashboard down.
  if (!rows) {
    log::warn(kComponent, "rebuild from the database skipped: {}", rows.error().message);
    return;
  }
  {
    std::lock_guard lock(mu);
    vehicles_gauge.set(static_cast<double>(state.vehicle_count()));
  }
  if (!ends)
    log::info(kComponent, "a new group reads the topics from their start: {}", ends.error().message);
  else
    start_offsets = std::move(*ends);
}

Status RealtimeService::Impl::start() {
  FP_CHECK(install_routes(), "realtime routes");
  if (options.rebuild_from_db) rebuild();
  last_poll_ms.store(now_ms());
  consumer_thread = std::thread([this] { consume_loop(); });
  lag_thread = std::thread([this] { lag_loop(); });
  flush_thread = std::thread([this] { flush_loop(); });
  FP_CHECK(server.start(), "realtime server");
  log::info(kComponent, "listening on http://{}:{} (source {}, group {})", options.bind_address,
            server.port(), options.source == Source::kCdc ? "cdc" : "direct", options.group_id);
  return ok_status();
}

void RealtimeService::Impl::stop() {
  {
    std::lock_guard lock(stop_mu);
    if (stopping.exchange(true) && !consumer_thread.joinable() && !lag_thread.joinable() &&
        !flush_thread.joinable()) {
      return;
    }
  }
  stop_cv.notify_all();
  // The consumer commits what it handled and leaves the group before the viewers are closed.
  if (consumer_thread.joinable()) consumer_thread.join();
  if (lag_thread.joinable()) lag_thread.join();
  if (flush_thread.joinable()) flush_thread.join();
  flush_once();  // what the consumer handled last reaches the viewers before they are closed
  server.stop();
}

RealtimeService::RealtimeService(const Config& config, RealtimeOptions options)
    : Service("realtime"), impl_(std::make_unique<Impl>(config, std::move(options))) {}

RealtimeService::~RealtimeService() {
  stop();
}

Status RealtimeService::start() {
  return impl_->start();
}

uint16_t RealtimeService::port() const {
  return impl_->server.port();
}

void RealtimeService::stop() {
  impl_->stop();
}

}  // namespace fp::realtime
