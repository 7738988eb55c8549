// Change data capture end to end: rows written to the webapp database arrive as Debezium change events on
// webapp.public.trips (create, update, delete and its tombstone), the insert within 5 seconds; and the
// replication slot moves on while only another database of the server writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/config.h"
#include "common/kafka/consumer.h"
#include "common/pg/connection.h"
#include "integration/scratch_db.h"

namespace fp {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kVehicle = 990001;  // ids at the top of the range are reserved for tests

class CdcTest : public ::testing::Test {
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
        db_->exec("INSERT INTO drivers (id, name, license_number) VALUES (990001, 'CDC Test', 'CDC-TEST-1')")
            .ok());
    ASSERT_TRUE(db_->exec("INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                          "VALUES (990001, 990001, 'Test', 'Van', 40, 'blue')")
                    .ok());

    const std::string group = "cdc-test-" + std::to_string(getpid()) + "-" +
                              std::to_string(Clock::now().time_since_epoch().count());
    kafka::ConsumerOptions opts;
    opts.bootstrap = cfg_.kafka_bootstrap;
    opts.group_id = group;
    opts.start_from = kafka::StartFrom::kEnd;
    auto consumer = kafka::Consumer::create(opts);
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;
    consumer_ = std::move(*consumer);
    ASSERT_TRUE(consumer_->subscribe({"webapp.public.trips", "webapp.public.vehicles"}).ok());
    // Wait for the partition assignment, so "start from the end" is fixed before we write.
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      auto batch = consumer_->poll(std::chrono::milliseconds(200));
      ASSERT_TRUE(batch.ok()) << batch.error().message;
      auto a = consumer_->assignment();
      if (a.ok() && !a->empty()) break;
    }
    auto a = consumer_->assignment();
    ASSERT_TRUE(a.ok() && !a->empty()) << "no partitions assigned within 20 s";
    // Let the consumer fetch its starting positions (the end) before anything is written.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(consumer_->poll(std::chrono::milliseconds(100)).ok());
    }
    // Debezium reads the WAL in order with one task: once the change event of a vehicle written now has
    // arrived, every earlier write (other suites load 100 000s of rows) is behind us, and the latency
    // measured next is the idle pipeline's, not the time to drain someone else's backlog.
    ASSERT_TRUE(db_->exec("UPDATE vehicles SET model = 'Van 2' WHERE id = 990001").ok());
    bool synced = false;
    for (auto deadline = Clock::now() + std::chrono::seconds(240); !synced && Clock::now() < deadline;) {
      auto batch = consumer_->poll(std::chrono::milliseconds(200));
      ASSERT_TRUE(batch.ok()) << batch.error().message;
      for (auto& m : *batch)
        synced = synced || (m.topic == "webapp.public.vehicles" && m.value &&
                            m.value->find("Van 2") != std::string::npos);
    }
    ASSERT_TRUE(synced) << "the connector did not catch up with the webapp database within 240 s";
  }

  void TearDown() override {
    if (db_) cleanup();
    if (consumer_) {
      EXPECT_TRUE(consumer_->close().ok());
    }
  }

  void cleanup() {
    EXPECT_TRUE(db_->exec("DELETE FROM trips WHERE vehicle_id = 990001").ok());
    // A dropped partition's rows leave their trips' latest entries behind (by design): ours go by hand.
    EXPECT_TRUE(db_->exec("DELETE FROM trip_latest WHERE vehicle_id = 990001").ok());
    EXPECT_TRUE(db_->exec("DELETE FROM vehicles WHERE id = 990001").ok());
    EXPECT_TRUE(db_->exec("DELETE FROM drivers WHERE id = 990001").ok());
  }

  // The next event for our test vehicle (or a tombstone keyed by one of our rows), within the timeout.
  std::optional<kafka::Message> next_event(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!pending_.empty()) {
        auto m = pending_.front();
        pending_.erase(pending_.begin());
        return m;
      }
      auto batch = consumer_->poll(std::chrono::milliseconds(50));
      if (!batch.ok()) {
        ADD_FAILURE() << batch.error().message;
        return std::nullopt;
      }
      for (auto& m : *batch) {
        // Other suites write to the same table concurrently: keep our vehicle's events, and tombstones
        // whose key is our row's id.
        if (m.topic != "webapp.public.trips") continue;
        const bool ours = m.value ? m.value->find(std::to_string(kVehicle)) != std::string::npos
                                  : m.key && row_id_ &&
                                        m.key->find("\"id\":" + std::to_string(row_id_)) != std::string::npos;
        if (ours) pending_.push_back(m);
      }
    }
    return std::nullopt;
  }

  Config cfg_;
  std::unique_ptr<pg::Connection> db_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::vector<kafka::Message> pending_;
  int64_t row_id_ = 0;  // the trips row under test, once inserted
};

TEST_F(CdcTest, InsertUpdateDeleteArriveAsChangeEvents) {
  const auto t0 = Clock::now();
  auto ins = db_->query(
      "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
      "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
      "VALUES ($1, 1, 1, '2024-04-15 17:55:03', 49.5, -123.25, 40, 12.5, 80, 32, 'blue') RETURNING id",
      kVehicle);
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  const auto row_id = ins->get<int64_t>(0, 0);
  ASSERT_TRUE(row_id.ok());
  row_id_ = *row_id;

  auto created = next_event(std::chrono::seconds(5));
  ASSERT_TRUE(created) << "no change event on webapp.public.trips within 5 s of the insert";
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  RecordProperty("insert_to_event_ms", static_cast<int>(latency));
  std::cout << "insert -> change event: " << latency << " ms\n";
  ASSERT_TRUE(created->value);
  auto ev = json::parse(*created->value);
  const auto& payload = ev.contains("payload") ? ev["payload"] : ev;
  EXPECT_EQ(payload["op"], "c");
  EXPECT_TRUE(payload["before"].is_null());
  EXPECT_EQ(payload["after"]["id"], *row_id);
  EXPECT_EQ(payload["after"]["vehicle_id"], kVehicle);
  EXPECT_DOUBLE_EQ(payload["after"]["latitude"].get<double>(), 49.5);
  EXPECT_DOUBLE_EQ(payload["after"]["longitude"].get<double>(), -123.25);
  EXPECT_EQ(payload["after"]["color"], "blue");
  EXPECT_EQ(payload["source"]["table"], "trips");

  ASSERT_TRUE(db_->query("UPDATE trips SET fuel_remaining_percent = 75 WHERE id = $1", *row_id).ok());
  auto updated = next_event(std::chrono::seconds(10));
  ASSERT_TRUE(updated && updated->value) << "no update event";
  auto up = json::parse(*updated->value);
  const auto& up_payload = up.contains("payload") ? up["payload"] : up;
  EXPECT_EQ(up_payload["op"], "u");
  // REPLICA IDENTITY FULL: the update carries the whole previous row.
  EXPECT_DOUBLE_EQ(up_payload["before"]["fuel_remaining_percent"].get<double>(), 80);
  EXPECT_DOUBLE_EQ(up_payload["after"]["fuel_remaining_percent"].get<double>(), 75);

  ASSERT_TRUE(db_->query("DELETE FROM trips WHERE id = $1", *row_id).ok());
  // The delete event and its tombstone, in either order: trip changes are routed to partitions by vehicle,
  // but a tombstone has no value to route by, so it goes by its key and may land on another partition.
  std::optional<kafka::Message> deleted, tombstone;
  for (int i = 0; i < 2; ++i) {
    auto m = next_event(std::chrono::seconds(10));
    ASSERT_TRUE(m) << (deleted ? "no tombstone after the delete" : tombstone ? "no delete event" : "nothing");
    auto& slot = m->value ? deleted : tombstone;
    ASSERT_FALSE(slot) << "two " << (m->value ? "delete events" : "tombstones");
    slot = std::move(m);
  }
  auto del = json::parse(*deleted->value);
  const auto& del_payload = del.contains("payload") ? del["payload"] : del;
  EXPECT_EQ(del_payload["op"], "d");
  EXPECT_EQ(del_payload["before"]["id"], *row_id);
  EXPECT_TRUE(del_payload["after"].is_null());
  ASSERT_TRUE(tombstone->key);
  EXPECT_NE(tombstone->key->find("\"id\":" + std::to_string(*row_id)), std::string::npos) << *tombstone->key;
}

// trips is partitioned (sql/webapp/010_trips_partitioned.sql); the publication sends every partition's
// changes as the parent's. Dropping a partition (what `fleetpipe retain` does past the hot window) is not a
// delete: no event and no tombstone follow it, and capture goes on for the rows written next.
TEST_F(CdcTest, DroppingAPartitionSendsNothingAndCaptureGoesOn) {
  // A day of its own, far in the past, so no other suite writes to it.
  ASSERT_TRUE(db_->exec("SELECT trip_partitions_ensure(ARRAY['2001-02-03 10:00:00']::timestamp[])").ok());
  auto part = db_->query(
      "SELECT partition_name FROM trip_partitions WHERE dropped_at IS NULL "
      "AND range_start <= '2001-02-03 10:00:00' AND range_end > '2001-02-03 10:00:00'");
  ASSERT_TRUE(part.ok() && part->size() == 1) << (part ? "no partition" : part.error().message);
  const std::string name = *part->get<std::string>(0, 0);
  auto ins = db_->query(
      "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
      "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
      "VALUES ($1, 1, 1, '2001-02-03 10:00:00', 49.5, -123.25, 40, 12.5, 80, 32, 'blue') RETURNING id, "
      "tableoid::regclass::text",
      kVehicle);
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  row_id_ = *ins->get<int64_t>(0, 0);
  EXPECT_EQ(*ins->get<std::string>(0, 1), name);
  auto created = next_event(std::chrono::seconds(10));
  ASSERT_TRUE(created && created->value) << "no change event for a row in partition " << name;
  const auto ev = json::parse(*created->value);
  EXPECT_EQ((ev.contains("payload") ? ev["payload"] : ev)["source"]["table"], "trips");

  // The drop refuses while a transaction it could not see may have written the range: try until the
  // snapshot it is given is past the insert.
  std::string answer;
  for (auto deadline = Clock::now() + std::chrono::seconds(20);
       answer != "dropped" && Clock::now() < deadline;) {
    auto r =
        db_->query("SELECT trip_partition_drop($1, pg_snapshot_xmin(pg_current_snapshot()), 1, 0)", name);
    ASSERT_TRUE(r.ok()) << r.error().message;
    answer = *r->get<std::string>(0, 0);
    if (answer != "dropped") std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(answer, "dropped");
  // The ledger entry is this test's, not the pipeline's: verify must not count it.
  EXPECT_TRUE(db_->query("DELETE FROM trip_partitions WHERE partition_name = $1", name).ok());

  auto after_drop = next_event(std::chrono::seconds(3));
  EXPECT_FALSE(after_drop) << "the drop sent an event: "
                           << (after_drop && after_drop->value ? *after_drop->value : "tombstone");

  auto next = db_->query(
      "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
      "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
      "VALUES ($1, 2, 1, now(), 49.5, -123.25, 40, 12.5, 80, 32, 'blue') RETURNING id",
      kVehicle);
  ASSERT_TRUE(next.ok()) << next.error().message;
  row_id_ = *next->get<int64_t>(0, 0);
  auto later = next_event(std::chrono::seconds(10));
  ASSERT_TRUE(later && later->value) << "no change event after the drop";
  const auto ev2 = json::parse(*later->value);
  EXPECT_EQ((ev2.contains("payload") ? ev2["payload"] : ev2)["after"]["id"], row_id_);
}

}  // namespace
}  // namespace fp

namespace fp {
namespace {

// WAL is per server: another database writing while the captured tables are quiet must not pin the
// replication slot (past max_slot_wal_keep_size it would be lost and CDC would stop for good). Debezium's
// heartbeat (sql/webapp/008_cdc_heartbeat.sql) moves the slot's confirmed position on within its interval.
TEST(CdcSlot, MovesOnWhileOnlyAnotherDatabaseWrites) {
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  integration::ScratchDatabase other;
  ASSERT_NO_FATAL_FAILURE(other.create(cfg->webapp, fmt::format("fp_it_cdc_slot_{}", getpid()), "webapp"));
  auto db = pg::Connection::connect(other.config());
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE(db->exec("CREATE TABLE filler (x text); "
                       "INSERT INTO filler SELECT repeat('x', 200) FROM generate_series(1, 100000)")
                  .ok());
  auto admin = pg::Connection::connect(cfg->webapp);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  auto written = admin->query("SELECT pg_current_wal_lsn()::text");
  ASSERT_TRUE(written.ok());
  const std::string lsn = *written->get<std::string>(0, 0);
  bool moved = false;
  std::string state;
  for (auto deadline = Clock::now() + std::chrono::seconds(45); !moved && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto r = admin->query(
        "SELECT confirmed_flush_lsn >= $1::pg_lsn, wal_status || ' ' || confirmed_flush_lsn::text "
        "FROM pg_replication_slots WHERE slot_name = 'webapp_cdc'",
        lsn);
    ASSERT_TRUE(r.ok() && r->size() == 1) << "no replication slot webapp_cdc";
    moved = *r->get<bool>(0, 0);
    state = *r->get<std::string>(0, 1);
  }
  EXPECT_TRUE(moved) << "the slot stayed behind " << lsn << " (" << state << ") for 45 s";
}

}  // namespace
}  // namespace fp
