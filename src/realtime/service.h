// `fleetpipe realtime`: the live fleet dashboard. A consumer-group member reads the webapp database's
// change topics (or the direct "trips" topic), folds the events into FleetState and pushes every change to
// the browsers over Server-Sent Events. On start the state is rebuilt from the webapp database (the latest
// points of every vehicle) so a restart never shows an empty map.
//
//   GET /                 the dashboard (web/realtime/), Plotly.js and the basemap served locally
//   GET /events           text/event-stream: "snapshot" on connect, then "point", "vehicle", "remove"
//   GET /api/state        the current state as JSON
//   GET /healthz          consumer alive and polled recently
//   GET /metrics          lag, events/s, viewers, delivery latency (now - source commit time)
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "common/http/service.h"

namespace fp::realtime {

enum class Source { kCdc, kDirect };

struct RealtimeOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 18050;
  Source source = Source::kCdc;
  std::string group_id;                // empty: fleetpipe-realtime (cdc) or fleetpipe-realtime-direct
  std::string direct_topic = "trips";  // the generator's topic, read with Source::kDirect
  size_t track_limit = 200;
  // The database rebuild's bounds (rebuild.h): tracks only for the vehicles that reported within the window
  // before the fleet's newest point, at most this many.
  std::chrono::seconds rebuild_track_window{3600};
  size_t rebuild_track_vehicles = 5000;
  std::filesystem::path static_dir;  // empty: web/realtime beside the working directory or the binary
  std::filesystem::path vendor_dir;  // empty: node_modules beside static_dir's repository
  bool rebuild_from_db = true;
  // Where a group without committed offsets starts. With the database rebuild: the topics' end as of just
  // before the rebuild (the rebuilt state holds everything earlier). Without it, or when that end could not
  // be read: the beginning of the topics (the state replays them), or with this flag their end as of the
  // assignment (tests that need only their own events).
  bool new_group_from_end = false;
  std::string schema = "public";
  std::chrono::milliseconds poll_timeout{200};
  std::chrono::milliseconds lag_interval{5000};
  // /healthz fails when a change the source committed has waited this long for an event (CDC only).
  std::chrono::milliseconds source_stall_after{30000};
  // Viewers (event streams) served at once; more get 503. The server's connection cap is this plus room for
  // page loads and API calls.
  size_t max_viewers = 1000;
  size_t sse_max_queued_events = 4096;
  // A viewer with more than this unsent is behind: its pending changes are replaced by a snapshot.
  size_t sse_max_queued_bytes = 4u << 20;
  // Changes are batched per tick and sent once per tick to every viewer.
  std::chrono::milliseconds tick{50};
  // Viewers that join or fall behind within this interval share one snapshot (a new viewer waits at most
  // this long for its first one while the fleet is changing).
  std::chrono::milliseconds snapshot_interval{500};
  // librdkafka's prefetch queue (queued.max.messages.kbytes).
  int kafka_queue_kbytes = 4096;
};

class RealtimeService : public httpd::Service {
 public:
  RealtimeService(const Config& config, RealtimeOptions options);
  ~RealtimeService() override;
  Status start() override;
  uint16_t port() const override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fp::realtime
