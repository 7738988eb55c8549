// The live dashboard end to end: rows written to the webapp database travel through Debezium and Kafka into
// `fleetpipe realtime` and out on its Server-Sent Events stream; an update and a delete behave.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/config.h"
#include "common/http/client.h"
#include "common/kafka/admin.h"
#include "common/pg/connection.h"
#include "realtime/service.h"

namespace fp {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kVehicle = 990101;  // ids at the top of the range are reserved for tests

// A minimal text/event-stream reader over a plain socket (the HTTP client library has no streaming API).
class SseReader {
 public:
  bool open(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    timeval tv{0, 200'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    const std::string req = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    return ::send(fd_, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size());
  }
  ~SseReader() {
    if (fd_ >= 0) ::close(fd_);
  }

  struct Event {
    std::string name;
    json data;
  };
  // The next event matching `want`, within the timeout.
  std::optional<Event> next(std::chrono::milliseconds timeout,
                            const std::function<bool(const Event&)>& want) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      while (auto ev = take()) {
        if (want(*ev)) return ev;
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) buf_.append(chunk, static_cast<size_t>(n));
      if (n == 0) return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  // The server batches changes per tick into one "changes" event (columns, see realtime/wire.h); each
  // change comes out as its own event here, named by its kind: "remove" {id, source_ts_ms}, "vehicle" (the
  // vehicle document with its track's columns) and "point" {vehicle: {id, color}, point: {..}, source_ts_ms},
  // the colour remembered from earlier events as the page does.
  std::optional<Event> take() {
    if (!pending_.empty()) {
      Event ev = std::move(pending_.front());
      pending_.pop_front();
      return ev;
    }
    auto ev = take_block();
    if (ev && ev->name == "snapshot" && ev->data.is_object()) {
      for (const auto& v : ev->data["vehicles"]) colors_[v["id"]] = v["color"];
    }
    if (!ev || ev->name != "changes") return ev;
    const json& d = ev->data;
    if (!d.is_object() || !d.contains("points")) return Event{};
    for (const auto& r : d["removed"]) pending_.push_back({"remove", r});
    for (const auto& v : d["vehicles"]) {
      colors_[v["id"]] = v["color"];
      pending_.push_back({"vehicle", v});
    }
    for (const auto& [id, color] : d["colors"].items()) colors_[std::stoll(id)] = color;
    const json& p = d["points"];
    for (size_t i = 0; i < p["vehicle"].size(); ++i) {
      const int64_t id = p["vehicle"][i];
      json point = json::object();
      for (const char* c : {"t", "lat", "lon", "fuel", "gal", "dist", "speed", "trip", "seq"})
        point[c] = p[c][i];
      const json& age = p["source_age_ms"][i];
      pending_.push_back(
          {"point",
           {{"vehicle", {{"id", id}, {"color", colors_.contains(id) ? colors_[id] : json()}}},
            {"point", point},
            {"source_ts_ms", age.is_number() ? d["sent_ms"].get<int64_t>() - age.get<int64_t>() : 0}}});
    }
    return Event{};
  }

  std::optional<Event> take_block() {
    if (!head_done_) {
      auto end = buf_.find("\r\n\r\n");
      if (end == std::string::npos) return std::nullopt;
      buf_.erase(0, end + 4);
      head_done_ = true;
    }
    auto end = buf_.find("\n\n");
    if (end == std::string::npos) return std::nullopt;
    std::string block = buf_.substr(0, end);
    buf_.erase(0, end + 2);
    Event ev;
    std::string data;
    size_t pos = 0;
    while (pos <= block.size()) {
      size_t nl = block.find('\n', pos);
      std::string line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (line.starts_with("event: ")) ev.name = line.substr(7);
      if (line.starts_with("data: ")) data += line.substr(6);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    if (ev.name.empty()) return Event{};  // a keep-alive comment
    ev.data = json::parse(data, nullptr, false);
    return ev;
  }
  int fd_ = -1;
  std::string buf_;
  std::deque<Event> pending_;
  std::map<int64_t, json> colors_;
  bool head_done_ = false;
};

class RealtimeIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = *cfg;
    auto conn = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    db_ = std::make_unique<pg::Connection>(std::move(*conn));
    cleanup();
    ASSERT_TRUE(
        db_->exec("INSERT INTO drivers (id, name, license_number) VALUES (990101, 'RT Test', 'RT-TEST-1')")
            .ok());
    ASSERT_TRUE(db_->exec("INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                          "VALUES (990101, 990101, 'Test', 'Van', 40, 'teal')")
                    .ok());
    start_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    realtime::RealtimeOptions o;
    o.port = 0;
    o.group_id = "realtime-test-" + std::to_string(getpid()) + "-" +
                 std::to_string(Clock::now().time_since_epoch().count());
    o.new_group_from_end = true;  // the topic may hold millions of older rows; this test needs only its own
    service_ = std::make_unique<realtime::RealtimeService>(cfg_, o);
    auto st = service_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    // No wait for the group's partitions: a new group starts at the topics' end as of the database rebuild
    // (inside start()), so whatever the test writes from here on is consumed however late the assignment.
    for (int i = 0; i < 50; ++i) {
      auto h =
          http::get(fmt::format("http://127.0.0.1:{}/healthz", service_->port()), std::chrono::seconds(2));
      if (h.ok() && h->status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(sse_.open(service_->port()));
    auto snap = sse_.next(std::chrono::seconds(5), [](const auto& e) { return e.name == "snapshot"; });
    ASSERT_TRUE(snap) << "no snapshot on connect";
    ASSERT_TRUE(snap->data.contains("vehicles"));
  }

  void TearDown() override {
    if (service_) service_->stop();
    if (db_) cleanup();
  }

  void cleanup() {
    EXPECT_TRUE(db_->exec("DELETE FROM trips WHERE vehicle_id = 990101").ok());
    EXPECT_TRUE(db_->exec("DELETE FROM vehicles WHERE id = 990101").ok());
    EXPECT_TRUE(db_->exec("DELETE FROM drivers WHERE id = 990101").ok());
  }

  // Events of this run only: a fresh group replays the topic, which holds earlier runs' rows of the same
  // vehicle; their commits are older than this test.
  bool ours(const SseReader::Event& e) const {
    if (!e.data.is_object() || !e.data.contains("source_ts_ms") ||
        e.data["source_ts_ms"].get<int64_t>() < start_ms_) {
      return false;
    }
    if (e.name == "point") return e.data["vehicle"]["id"] == kVehicle;
    if (e.name == "vehicle" || e.name == "remove") return e.data["id"] == kVehicle;
    return false;
  }

  void insert(int seq, const char* time, double lat, double lon) {
    auto r = db_->query(
        "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
        "longitude, "
        "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
        "VALUES ($1, 1, $2, $3::timestamp, $4, $5, 40, 10, 80, 32, 'teal')",
        kVehicle, seq, std::string(time), lat, lon);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  Config cfg_;
  std::unique_ptr<pg::Connection> db_;
  std::unique_ptr<realtime::RealtimeService> service_;
  SseReader sse_;
  int64_t start_ms_ = 0;
};

TEST_F(RealtimeIntegration, InsertUpdateDeleteReachTheEventStream) {
  // A fresh group replays the topic from the beginning first, so allow for that on a busy stack.
  constexpr auto kWait = std::chrono::seconds(30);
  insert(1, "2024-04-15 17:00:00", 49.0, -123.0);
  auto first = sse_.next(kWait, [this](const auto& e) { return ours(e); });
  ASSERT_TRUE(first) << "the insert did not reach the dashboard stream";
  ASSERT_EQ(first->name, "point");
  EXPECT_DOUBLE_EQ(first->data["point"]["lat"].get<double>(), 49.0);
  EXPECT_EQ(first->data["vehicle"]["color"], "teal");
  EXPECT_GT(first->data["source_ts_ms"].get<int64_t>(), 0);

  // One degree of latitude north in one hour: about 69 mph.
  insert(2, "2024-04-15 18:00:00", 50.0, -123.0);
  auto second = sse_.next(kWait, [this](const auto& e) { return ours(e); });
  ASSERT_TRUE(second);
  ASSERT_EQ(second->name, "point");
  EXPECT_NEAR(second->data["point"]["speed"].get<double>(), 69.09, 0.05);

  ASSERT_TRUE(db_->exec("UPDATE trips SET fuel_remaining_percent = 10, fuel_remaining_gallon = 4 "
                        "WHERE vehicle_id = 990101 AND measurement_sequence = 2")
                  .ok());
  auto updated = sse_.next(kWait, [this](const auto& e) { return ours(e); });
  ASSERT_TRUE(updated);
  ASSERT_EQ(updated->name, "vehicle");
  EXPECT_EQ(updated->data["track"]["fuel"], (json{80, 10}));  // 10 %: below the low-fuel threshold
  EXPECT_EQ(updated->data["track"]["seq"], (json{1, 2}));

  ASSERT_TRUE(db_->exec("DELETE FROM trips WHERE vehicle_id = 990101 AND measurement_sequence = 2").ok());
  auto shortened = sse_.next(kWait, [this](const auto& e) { return ours(e); });
  ASSERT_TRUE(shortened);
  ASSERT_EQ(shortened->name, "vehicle");
  EXPECT_EQ(shortened->data["track"]["seq"], (json{1}));
  EXPECT_EQ(shortened->data["track"]["fuel"], (json{80}));

  ASSERT_TRUE(db_->exec("DELETE FROM trips WHERE vehicle_id = 990101").ok());
  auto removed = sse_.next(kWait, [this](const auto& e) { return ours(e); });
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->name, "remove");

  auto health =
      http::get(fmt::format("http://127.0.0.1:{}/healthz", service_->port()), std::chrono::seconds(5));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200) << health->body;
  auto metrics =
      http::get(fmt::format("http://127.0.0.1:{}/metrics", service_->port()), std::chrono::seconds(5));
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("fp_realtime_delivery_latency_seconds_count"), std::string::npos);
  EXPECT_NE(metrics->body.find("fp_realtime_viewers 1"), std::string::npos) << metrics->body;
}

// Sum of a metric's samples (every label set) in a Prometheus exposition; -1 when absent.
double metric_sum(const std::string& body, const std::string& name) {
  double sum = -1;
  size_t pos = 0;
  while ((pos = body.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || body[pos - 1] == '\n';
    const char next = pos + name.size() < body.size() ? body[pos + name.size()] : '\n';
    const size_t eol = body.find('\n', pos);
    if (line_start && (next == ' ' || next == '{')) {
      const size_t space = body.rfind(' ', eol == std::string::npos ? body.size() : eol);
      sum = (sum < 0 ? 0 : sum) + std::stod(body.substr(space + 1, eol - space - 1));
    }
    pos = eol == std::string::npos ? body.size() : eol;
  }
  return sum;
}

int64_t trips_topic_end(kafka::Admin& admin) {
  auto marks = admin.watermarks("webapp.public.trips");
  if (!marks) return -1;
  int64_t end = 0;
  for (const auto& w : *marks) end += w.high;
  return end;
}

// The topic's end once Debezium has published what earlier statements changed: unchanged for a second.
int64_t settled_trips_topic_end(kafka::Admin& admin) {
  int64_t end = trips_topic_end(admin);
  for (int stable_ms = 0, waited_ms = 0; stable_ms < 1000 && waited_ms < 15000; waited_ms += 200) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int64_t now = trips_topic_end(admin);
    stable_ms = now == end ? stable_ms + 200 : 0;
    end = now;
  }
  return end;
}

// A (re)start with rows already in the database: the first snapshot a viewer gets holds them, rebuilt from
// the database, before any change event arrives. A vehicle that reported lately comes with its track; one
// whose newest point is older than the rebuild's track window comes with that point alone (the bound that
// keeps a rebuild on a long history to the fleet's size, not its history's).
TEST(RealtimeRebuild, AStartServesTheDatabasesRowsInItsFirstSnapshot) {
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto conn = pg::Connection::connect(cfg->webapp);
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  constexpr int kVehicle = 990103;
  constexpr int kIdleVehicle = 990104;
  auto exec = [&](const std::string& sql) {
    Status st = conn->exec(sql);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return st.ok();
  };
  auto cleanup = [&] {
    for (int id : {kVehicle, kIdleVehicle})
      exec(
          fmt::format("DELETE FROM trips WHERE vehicle_id = {0}; DELETE FROM vehicles WHERE id = {0}; "
                      "DELETE FROM drivers WHERE id = {0}",
                      id));
  };
  cleanup();
  kafka::AdminOptions ao;
  ao.bootstrap = cfg->kafka_bootstrap;
  ao.timeout = std::chrono::milliseconds(5000);
  auto admin = kafka::Admin::create(ao);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  // The cleanup's deletes (rows a failed earlier run left) are on the topic before the count starts.
  const int64_t before = settled_trips_topic_end(**admin);
  ASSERT_GE(before, 0);
  // 20 points each, ending now and two days ago.
  for (auto [id, ago] : {std::pair{kVehicle, "0 seconds"}, std::pair{kIdleVehicle, "2 days"}}) {
    ASSERT_TRUE(exec(
        fmt::format("INSERT INTO drivers (id, name, license_number) VALUES ({0}, 'RT', 'RT-{0}'); "
                    "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                    "VALUES ({0}, {0}, 'Test', 'Van', 40, 'olive'); "
                    "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                    "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                    "fuel_remaining_gallon, color) SELECT {0}, 1, i, now()::timestamp - interval '{1}' - "
                    "(20 - i) * interval '1 second', 48 + i / 100.0, -122, 40, i, 80, 32, 'olive' "
                    "FROM generate_series(1, 20) AS i",
                    id, ago)));
  }
  // Published before the start: the stream then adds nothing to what the rebuild read.
  for (int i = 0; i < 300 && trips_topic_end(**admin) < before + 40; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(trips_topic_end(**admin), before + 40) << "Debezium did not publish the rows";
  realtime::RealtimeOptions o;
  o.port = 0;
  o.group_id = "realtime-rebuild-test-" + std::to_string(getpid());
  o.rebuild_track_window = std::chrono::hours(1);
  realtime::RealtimeService service(*cfg, o);
  ASSERT_TRUE(service.start().ok());
  SseReader sse;
  ASSERT_TRUE(sse.open(service.port()));
  nlohmann::json ours, idle;
  ASSERT_TRUE(sse.next(std::chrono::seconds(10), [&](const auto& e) {
    if (e.name != "snapshot") return false;
    for (const auto& v : e.data["vehicles"]) {
      if (v["id"] == kVehicle) ours = v;
      if (v["id"] == kIdleVehicle) idle = v;
    }
    return true;  // the first snapshot, whatever it holds
  }));
  ASSERT_TRUE(ours.is_object()) << "vehicle " << kVehicle << " is not in the first snapshot";
  EXPECT_EQ(ours["color"], "olive");
  ASSERT_TRUE(ours["track"]["lat"].is_array());
  EXPECT_EQ(ours["track"]["lat"].size(), 20u) << ours.dump();
  // The newest point is the database's newest measurement (48.20, sent as micro-degrees or degrees).
  auto is_newest = [](const nlohmann::json& v) {
    const double last = v["track"]["lat"].back().get<double>();
    return std::abs(last - 48.2) < 1e-6 || std::abs(last - 48.2e6) < 1;
  };
  EXPECT_TRUE(is_newest(ours)) << ours.dump();
  ASSERT_TRUE(idle.is_object()) << "vehicle " << kIdleVehicle << " is not in the first snapshot";
  ASSERT_EQ(idle["track"]["lat"].size(), 1u) << idle.dump();
  EXPECT_TRUE(is_newest(idle)) << idle.dump();
  service.stop();
  cleanup();
}

TEST(RealtimeNewGroup, StartsWhereTheDatabaseRebuildLeftOffInsteadOfReplayingTheTopic) {
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto conn = pg::Connection::connect(cfg->webapp);
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  kafka::AdminOptions ao;
  ao.bootstrap = cfg->kafka_bootstrap;
  ao.timeout = std::chrono::milliseconds(5000);
  auto admin = kafka::Admin::create(ao);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  constexpr int kHistoryVehicle = 990102;
  auto exec = [&](const std::string& sql) {
    Status st = conn->exec(sql);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return st.ok();
  };
  auto cleanup = [&] {
    exec("DELETE FROM trips WHERE vehicle_id = 990102");
    exec("DELETE FROM vehicles WHERE id = 990102");
    exec("DELETE FROM drivers WHERE id = 990102");
  };
  cleanup();
  ASSERT_TRUE(exec("INSERT INTO drivers (id, name, license_number) VALUES (990102, 'RT Test', 'RT-TEST-2')"));
  ASSERT_TRUE(
      exec("INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
           "VALUES (990102, 990102, 'Test', 'Van', 40, 'teal')"));
  // History on the topic: 300 rows written and deleted again (300 creates, 300 deletes, 300 tombstones).
  const int64_t before = trips_topic_end(**admin);
  ASSERT_GE(before, 0);
  ASSERT_TRUE(
      exec("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
           "longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
           "fuel_remaining_gallon, color) "
           "SELECT 990102, 1, i, TIMESTAMP '2024-04-15 08:00:00' + i * INTERVAL '1 minute', 49, "
           "-123, 40, i, 80, 32, 'teal' FROM generate_series(1, 300) AS i"));
  ASSERT_TRUE(exec("DELETE FROM trips WHERE vehicle_id = 990102"));
  for (int i = 0; i < 300 && trips_topic_end(**admin) < before + 900; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(trips_topic_end(**admin), before + 900) << "Debezium did not publish the history";

  // A group new to the topics, with the state rebuilt from the database (the default).
  realtime::RealtimeOptions o;
  o.port = 0;
  o.group_id = "realtime-newgroup-test-" + std::to_string(getpid()) + "-" +
               std::to_string(Clock::now().time_since_epoch().count());
  realtime::RealtimeService service(*cfg, o);
  ASSERT_TRUE(service.start().ok());
  const auto metrics_url = fmt::format("http://127.0.0.1:{}/metrics", service.port());
  double lag = -1;
  std::string body;
  for (int i = 0; i < 60 && lag != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto m = http::get(metrics_url, std::chrono::seconds(5));
    if (!m.ok()) continue;
    body = m->body;
    lag = metric_sum(body, "fp_realtime_consumer_lag");
  }
  ASSERT_EQ(lag, 0) << body;
  // It did not read the history: only what other writers committed meanwhile, if anything.
  EXPECT_LT(metric_sum(body, "fp_realtime_events_total"), 100) << body;

  // And it misses nothing after its start: a new row reaches the stream.
  SseReader sse;
  ASSERT_TRUE(sse.open(service.port()));
  ASSERT_TRUE(sse.next(std::chrono::seconds(5), [](const auto& e) { return e.name == "snapshot"; }));
  ASSERT_TRUE(
      exec("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
           "longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
           "fuel_remaining_gallon, color) "
           "VALUES (990102, 2, 1, TIMESTAMP '2024-04-16 08:00:00', 50, -123, 40, 1, 80, 32, 'teal')"));
  auto arrived = sse.next(std::chrono::seconds(30), [&](const auto& e) {
    return e.name == "point" && e.data["vehicle"]["id"] == kHistoryVehicle;
  });
  EXPECT_TRUE(arrived) << "the row written after the start did not reach the stream";
  service.stop();
  cleanup();
}

}  // namespace
}  // namespace fp
