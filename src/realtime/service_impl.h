// RealtimeService's insides, shared by the files that implement them: service.cpp (start and stop),
// http_side.cpp (routes, health, the SSE stream and the snapshot), consume.cpp (the Kafka consumer and the
// lag sampler) and flush.cpp (the fan-out tick). Internal to src/realtime.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/http/server.h"
#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/metrics.h"
#include "common/pg/client.h"
#include "realtime/delta_batch.h"
#include "realtime/fanout.h"
#include "realtime/service.h"
#include "realtime/source_watch.h"
#include "realtime/state.h"

namespace fp::realtime {

inline constexpr const char* kComponent = "realtime";

int64_t now_ms();

using PartitionOffsets = std::map<std::pair<std::string, int32_t>, int64_t>;

struct RealtimeService::Impl {
  Config config;
  RealtimeOptions options;
  metrics::Registry& registry = metrics::default_registry();
  httpd::Server server;

  // The state and the pending changes share one lock: the flush thread cuts the batch and builds the
  // snapshot under it, so a viewer gets a snapshot and every change after it, none lost or doubled.
  std::mutex mu;
  FleetState state;
  DeltaBatch batch;
  // The snapshot of state version snapshot_version (mu), while a viewer's queue still holds it: at
  // thousands of vehicles it is a hundred megabytes or more, not worth keeping once sent.
  std::weak_ptr<const httpd::SseFrameData> snapshot_cache;
  uint64_t snapshot_version = 0;
  std::chrono::steady_clock::time_point snapshot_built{};
  Fanout fanout;  // only the flush thread sends

  std::atomic<bool> stopping{false};
  std::atomic<bool> consumer_running{false};
  std::atomic<int64_t> last_poll_ms{0};
  std::atomic<uint64_t> events_seen{0};
  // Changes committed in the source that have not reached the stream (source_watch.h): sampled by the lag
  // thread, read by /healthz.
  std::mutex watch_mu;
  SourceWatch source_watch{std::chrono::seconds(30)};
  std::thread consumer_thread;
  // Where the partitions a new group has no offset for start: the topics' end before the database rebuild
  // (empty without one). Written before the consumer thread starts.
  PartitionOffsets start_offsets;
  std::thread flush_thread;
  std::thread lag_thread;
  std::mutex stop_mu;
  std::condition_variable stop_cv;

  metrics::Counter& malformed;
  metrics::Counter& tombstones;
  metrics::Gauge& viewer_gauge;
  metrics::Gauge& lag_gauge;
  metrics::Gauge& rate_gauge;
  metrics::Gauge& vehicles_gauge;
  metrics::Histogram& delivery_latency;
  metrics::Counter& resyncs;
  metrics::Counter& batches;
  std::map<std::pair<std::string, Op>, metrics::Counter*> event_counters;  // consumer thread

  Impl(const Config& cfg, RealtimeOptions opts);  // service.cpp
  Status start();
  void stop();
  // The database rebuild (rebuild.h) and where a new group starts reading.
  void rebuild();

  // http_side.cpp
  httpd::ServerOptions server_options();
  httpd::Health health();
  Status install_routes();
  httpd::Response events();
  // The snapshot frame of the current state, built at most once per state version. mu held.
  httpd::SseFrame snapshot_locked();
  // The snapshot as JSON, for /api/state.
  std::shared_ptr<const std::string> current_snapshot();

  // flush.cpp
  // One fan-out tick: cuts the batch of changes since the last tick, renders it once, and hands the
  // shared frame (and a snapshot, when a viewer needs one) to every viewer.
  void flush_once();
  void flush_loop();

  // consume.cpp
  std::vector<std::string> topics() const;
  void handle(const kafka::Message& m);
  // The per-topic, per-operation counter, looked up in the registry once (consumer thread only): a registry
  // lookup builds a label map under the registry's lock, too much to do 2 000 times a second.
  metrics::Counter& events_counter(const std::string& topic, Op op);
  // Connects, subscribes and consumes until stop; reconnects with backoff when the consumer fails.
  void consume_loop();
  Status poll_until_stopped(kafka::Consumer& consumer);
  // Samples consumer lag and the event rate, and looks at the source (watch_source()).
  void lag_loop();
  // One look at the webapp database's newest change for the source watch (CDC only); `db` connects lazily
  // and is dropped after an error.
  void watch_source(std::unique_ptr<pg::Client>& db);
  Result<std::unique_ptr<kafka::Admin>> new_admin() const;
  // The end of every partition of the change topics, as of now. A topic that does not exist yet is left
  // out: when it appears, its partitions are read from their start.
  Result<PartitionOffsets> topic_ends();
};

}  // namespace fp::realtime
