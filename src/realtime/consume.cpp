// The Kafka side of the service: a consumer-group member that reads the change topics (or the direct
// topic), parses every record into a ChangeEvent and folds it into the state, committing what it handled;
// and the sampler of its lag and event rate. Reconnects with backoff when the consumer fails.
#include <algorithm>
#include <random>

#include "common/log.h"
#include "common/retry.h"
#include "realtime/service_impl.h"

namespace fp::realtime {

namespace {
const std::vector<std::string> kCdcTopics = {"webapp.public.trips", "webapp.public.vehicles",
                                             "webapp.public.drivers"};

}  // namespace

std::vector<std::string> RealtimeService::Impl::topics() const {
  return options.source == Source::kCdc ? kCdcTopics : std::vector<std::string>{options.direct_topic};
}

void RealtimeService::Impl::handle(const kafka::Message& m) {
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

metrics::Counter& RealtimeService::Impl::events_counter(const std::string& topic, Op op) {
  auto key = std::make_pair(topic, op);
  auto it = event_counters.find(key);
  if (it == event_counters.end()) {
    auto& c = registry.counter("fp_realtime_events_total", "Change events consumed",
                               {{"topic", topic}, {"op", std::string(op_name(op))}});
    it = event_counters.emplace(std::move(key), &c).first;
  }
  return *it->second;
}

void RealtimeService::Impl::consume_loop() {
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
    Status st = consumer ? (*consumer)->subscribe(topics()) : Status(consumer.error());
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

Status RealtimeService::Impl::poll_until_stopped(kafka::Consumer& consumer) {
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

void RealtimeService::Impl::watch_source(std::unique_ptr<pg::Client>& db) {
  if (!db) {
    pg::ConnectOptions co;
    co.connect_timeout_s = 3;
    co.statement_timeout = std::chrono::milliseconds(3000);
    co.backoff.max_attempts = 1;
    co.settings = {{"search_path", options.schema}};
    auto c = pg::Client::connect(config.webapp_as(DbService::kRealtime), co);
    if (!c) {
      log::debug(kComponent, "source watch: {}", c.error().message);
      return;
    }
    db = std::make_unique<pg::Client>(std::move(*c));
  }
  // The newest transaction that wrote a captured table (each max is one index probe; deletes are logged
  // with theirs in export_deletes, sql/webapp/006 and 007).
  static constexpr const char* kSql =
      "SELECT greatest((SELECT max(_export_xid) FROM trips), (SELECT max(_export_xid) FROM vehicles), "
      "(SELECT max(_export_xid) FROM drivers), "
      "(SELECT max(_export_xid) FROM export_deletes WHERE table_name = 'trips'), "
      "(SELECT max(_export_xid) FROM export_deletes WHERE table_name = 'vehicles'), "
      "(SELECT max(_export_xid) FROM export_deletes WHERE table_name = 'drivers'))::text";
  auto rows = db->query(kSql);
  if (!rows || rows->empty()) {
    if (!rows) log::debug(kComponent, "source watch: {}", rows.error().message);
    db.reset();
    return;
  }
  auto value = rows->get<std::optional<std::string>>(0, 0);
  const std::string marker = value && *value ? **value : std::string();
  std::lock_guard lock(watch_mu);
  source_watch.observe(marker, events_seen.load(), SourceWatch::Clock::now());
}

void RealtimeService::Impl::lag_loop() {
  std::unique_ptr<kafka::Admin> admin;
  std::unique_ptr<pg::Client> source_db;
  uint64_t last_events = events_seen.load();
  auto last_t = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(stop_mu);
      if (stop_cv.wait_for(lock, options.lag_interval, [this] { return stopping.load(); })) return;
    }
    const auto t = std::chrono::steady_clock::now();
    const uint64_t ev = events_seen.load();
    rate_gauge.set(static_cast<double>(ev - last_events) / std::chrono::duration<double>(t - last_t).count());
    last_events = ev;
    last_t = t;
    if (options.source == Source::kCdc) watch_source(source_db);
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
    for (const auto& topic : topics()) {
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

Result<std::unique_ptr<kafka::Admin>> RealtimeService::Impl::new_admin() const {
  kafka::AdminOptions ao;
  ao.bootstrap = config.kafka_bootstrap;
  ao.client_id = "fleetpipe-realtime-admin";
  ao.timeout = std::chrono::milliseconds(5000);
  return kafka::Admin::create(ao);
}

Result<PartitionOffsets> RealtimeService::Impl::topic_ends() {
  // Errors are copied out rather than moved: with a move GCC 12 warns, wrongly, of freeing a non-heap object.
  auto admin = new_admin();
  if (!admin.ok()) return Error(admin.error()).context("topic ends");
  PartitionOffsets ends;
  for (const auto& topic : kCdcTopics) {
    auto marks = (*admin)->watermarks(topic);
    if (marks.ok()) {
      for (const auto& w : *marks) ends[{topic, w.partition}] = w.high;
    } else if (marks.error().kind != Error::Kind::kNotFound) {
      return Error(marks.error()).context("topic ends");
    }
  }
  return ends;
}

}  // namespace fp::realtime
