// The service's HTTP side: the server's options and health, the routes (the dashboard's files, /events,
// /api/state) and the snapshot a viewer starts from. It meets the consumer (consume.cpp) and the fan-out
// tick (flush.cpp) only through the state under Impl::mu.
#include <fmt/format.h>

#include "common/http/static_files.h"
#include "common/log.h"
#include "realtime/service_impl.h"
#include "realtime/wire.h"

namespace fp::realtime {

namespace {
// /healthz fails when the consumer has not returned from poll() for this long.
constexpr auto kPollStaleAfter = std::chrono::seconds(10);
}  // namespace

httpd::ServerOptions RealtimeService::Impl::server_options() {
  httpd::ServerOptions o;
  o.bind_address = options.bind_address;
  o.port = options.port;
  o.metrics = &registry;
  o.max_event_streams = options.max_viewers;
  o.max_connections = options.max_viewers + 256;
  o.sse_max_queued_events = options.sse_max_queued_events;
  o.sse_max_queued_bytes = options.sse_max_queued_bytes;
  o.sse_keepalive = std::chrono::milliseconds(10'000);
  // Plotly styles its SVG with style attributes and injects a <style> element; everything is same-origin.
  o.content_security_policy =
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
      "frame-ancestors 'none'; base-uri 'none'";
  o.health = [this] { return health(); };
  return o;
}

httpd::Health RealtimeService::Impl::health() {
  httpd::Health h;
  const int64_t age = now_ms() - last_poll_ms.load();
  std::chrono::milliseconds pending{0};
  bool stalled = false;
  {
    std::lock_guard lock(watch_mu);
    const auto now = SourceWatch::Clock::now();
    pending = source_watch.pending_for(now);
    stalled = source_watch.stalled(now);
  }
  h.ok = consumer_running.load() && age < std::chrono::milliseconds(kPollStaleAfter).count() && !stalled;
  std::lock_guard lock(mu);
  h.detail = {{"consumer_running", consumer_running.load()},
              {"last_poll_age_ms", age},
              {"events", events_seen.load()},
              {"viewers", fanout.viewer_count()},
              {"vehicles", state.vehicle_count()},
              {"source", options.source == Source::kCdc ? "cdc" : "direct"},
              // How long the oldest change committed in the source has waited for an event; /healthz
              // fails past source_stall_after_ms.
              {"source_change_pending_ms", pending.count()},
              {"source_stall_after_ms", source_watch.stall_after().count()}};
  return h;
}

Status RealtimeService::Impl::install_routes() {
  FP_CHECK(server.get("/events", [this](const httpd::Request&) { return events(); }), "route /events");
  FP_CHECK(server.get("/api/state",
                      [this](const httpd::Request&) {
                        httpd::Response r;
                        r.content_type = "application/json";
                        r.body = *current_snapshot();
                        return r;
                      }),
           "route /api/state");
  auto web = options.static_dir.empty() ? httpd::find_asset_dir("web/realtime") : options.static_dir;
  auto vendor = options.vendor_dir.empty() ? httpd::find_asset_dir("node_modules") : options.vendor_dir;
  FP_CHECK(server.serve_static("/", web), "dashboard files");
  // The page's libraries and the basemap geometry from npm, served by us so the page works offline.
  const std::pair<const char*, std::filesystem::path> vendored[] = {
      {"/vendor/plotly", vendor / "plotly.js-dist-min"},
      {"/vendor/leaflet", vendor / "leaflet" / "dist"},
      {"/vendor/supercluster", vendor / "supercluster" / "dist"},
      {"/vendor/topojson-client", vendor / "topojson-client" / "dist"},
      {"/vendor/atlas/world", vendor / "world-atlas"},
      {"/vendor/atlas/us", vendor / "us-atlas"},
  };
  for (const auto& [prefix, dir] : vendored) {
    if (!server.serve_static(prefix, dir)) {
      log::warn(kComponent, "{} is missing (run `npm ci`): the dashboard will not draw all of itself",
                dir.string());
    }
  }
  return ok_status();
}

httpd::Response RealtimeService::Impl::events() {
  // The first snapshot and the changes come from the flush thread at its next tick.
  return httpd::Response::event_stream([this](std::shared_ptr<httpd::SseStream> s) { fanout.join(s); });
}

httpd::SseFrame RealtimeService::Impl::snapshot_locked() {
  if (auto live = snapshot_cache.lock(); live && snapshot_version == state.version()) return live;
  httpd::SseFrame frame = httpd::sse_frame("snapshot", wire::snapshot(state));
  snapshot_cache = frame;
  snapshot_version = state.version();
  snapshot_built = std::chrono::steady_clock::now();
  return frame;
}

std::shared_ptr<const std::string> RealtimeService::Impl::current_snapshot() {
  std::lock_guard lock(mu);
  return std::make_shared<const std::string>(wire::snapshot(state));
}

}  // namespace fp::realtime
