// The batch lane (export -> bucket -> load -> verify) against the running stack, driving the real
// `build/fleetpipe` binary as a child process. Every test works under its own bucket prefix, uses vehicle and
// driver ids from 800000 up, empties the warehouse's raw tables first (only the loader writes them) and
// removes its rows and objects afterwards.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <random>
#include <thread>

#include "common/batch/codec.h"
#include "common/digest.h"
#include "integration/batch_lane_fixture.h"

namespace fp::batch {
namespace {

constexpr int kBase = 800000;

constexpr const char* kLog = "/tmp/fleetpipe-batch-test.log";

int run(const std::vector<std::string>& args) {
  const pid_t pid = integration::spawn_logged(args, "/dev/null", kLog);
  return pid < 0 ? -1 : integration::wait_exit(pid);
}

class BatchTest : public integration::BatchLaneTest {
 protected:
  BatchTest() : BatchLaneTest(kBase, "test-batch") {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(
        web_->exec(fmt::format(
                       "INSERT INTO drivers (id, name, license_number) SELECT {0} + g, 'Driver ' || g, "
                       "'BT-' || g FROM generate_series(1, 10) g;"
                       "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                       "SELECT {0} + g, {0} + g, 'Make', 'Model', 15, 'blue' FROM generate_series(1, 10) g",
                       kBase))
            .ok());
  }

  // Inserts `n` trips spread over the 10 test vehicles and 3 days, trip numbers from `trip_base`.
  void insert_trips(int n, int trip_base) {
    auto st = web_->exec(fmt::format(
        "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
        "longitude, "
        "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
        "SELECT {0} + 1 + g % 10, {1} + g / 1000, 1 + g % 1000, "
        "timestamp '2024-04-15 00:00:00' + (g * interval '1 second') * (259200.0 / {2}), "
        "40 + (g % 1000) / 1000.0, -73 - (g % 777) / 777.0, 15, g * 0.001, 50 + (g % 50) / 3.0, 7.5, 'red' "
        "FROM generate_series(0, {2} - 1) g",
        kBase, trip_base, n));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  int64_t scalar(pg::Connection& c, const std::string& sql) {
    auto r = c.query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    if (!r) return -1;
    auto v = r->get<int64_t>(0, 0);
    return v ? *v : -1;
  }

  std::string bin() const { return "build/fleetpipe"; }
  int export_() { return run({bin(), "export", "--prefix", prefix_, "--max-rows-per-object", "5000"}); }
  int load() { return run({bin(), "load", "--prefix", prefix_}); }
  int verify() { return run({bin(), "verify", "--prefix", prefix_}); }

  // Occurrences of an id across every trips object in the bucket.
  int count_exported(int64_t id) {
    auto objs = s3_->list_all(prefix_ + "trips/");
    EXPECT_TRUE(objs.ok());
    int n = 0;
    const std::string needle = fmt::format("{{\"id\":{},", id);
    for (const auto& o : *objs) {
      auto body = s3_->get_object(o.key);
      EXPECT_TRUE(body.ok());
      GunzipReader g;
      std::string text;
      EXPECT_TRUE(g.write(*body, text).ok());
      for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    }
    return n;
  }
};

TEST_F(BatchTest, HundredThousandRowsEndToEndAndIdempotent) {
  insert_trips(100000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)), 100000);
  const int64_t manifest_rows = scalar(*dw_, "SELECT count(*) FROM raw.load_manifest");
  EXPECT_GE(manifest_rows, 20 + 2);  // 100k rows in objects of <= 5000, plus drivers and vehicles
  // Every object sits under table/dt=day/ with a sha256 that matches its bytes.
  auto objs = s3_->list_all(prefix_ + "trips/dt=2024-04-16/");
  ASSERT_TRUE(objs.ok());
  ASSERT_FALSE(objs->empty());
  auto head = s3_->head_object(objs->front().key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata["sha256"], digest::sha256_hex(*s3_->get_object(objs->front().key)));

  // Loading and exporting again change nothing.
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest"), manifest_rows);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)), 100000);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)), 100000);

  // A changed vehicle travels again and the newest version wins in the warehouse.
  ASSERT_TRUE(web_->exec(fmt::format("UPDATE vehicles SET color = 'green' WHERE id = {}", kBase + 1)).ok());
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.vehicles WHERE id = {} AND color = 'green'",
                                     kBase + 1)),
            1);

  // A tampered warehouse row makes verify fail.
  ASSERT_TRUE(
      dw_->exec(fmt::format("UPDATE raw.trips SET latitude = latitude + 0.5 WHERE id = (SELECT min(id) FROM "
                            "raw.trips WHERE vehicle_id > {})",
                            kBase))
          .ok());
  EXPECT_EQ(verify(), 1);
}

TEST_F(BatchTest, LateCommittedRowIsExportedExactlyOnce) {
  insert_trips(100, 1);
  // A transaction takes an id, then stays open while a later row commits and an export runs.
  auto late_conn = pg::Connection::connect(cfg_.webapp);
  ASSERT_TRUE(late_conn.ok());
  auto tx = late_conn->begin();
  ASSERT_TRUE(tx.ok());
  auto late = late_conn->query(fmt::format(
      "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
      "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) VALUES "
      "({}, 99, 1, '2024-04-15 12:00:00', 1, 1, 15, 0, 50, 7.5, 'red') RETURNING id",
      kBase + 1));
  ASSERT_TRUE(late.ok()) << late.error().message;
  const int64_t late_id = *late->get<int64_t>(0, 0);
  insert_trips(100, 1000);  // commits rows with ids above late_id
  EXPECT_GT(scalar(*web_, fmt::format("SELECT max(id) FROM trips WHERE vehicle_id > {}", kBase)), late_id);

  ASSERT_EQ(export_(), 0);
  EXPECT_EQ(count_exported(late_id), 0);
  ASSERT_TRUE(tx->commit().ok());
  ASSERT_EQ(export_(), 0);
  EXPECT_EQ(count_exported(late_id), 1);
  ASSERT_EQ(export_(), 0);
  EXPECT_EQ(count_exported(late_id), 1);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE id = {}", late_id)), 1);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)), 201);
}

TEST_F(BatchTest, MalformedObjectsAreQuarantinedWithAReason) {
  insert_trips(25000, 1);  // 5+ trips objects
  ASSERT_EQ(export_(), 0);
  auto objs = s3_->list_all(prefix_ + "trips/");
  ASSERT_TRUE(objs.ok());
  ASSERT_GE(objs->size(), 5u);
  const std::string truncated = (*objs)[0].key, bad_json = (*objs)[1].key, bad_sum = (*objs)[2].key;
  auto original = s3_->get_object(truncated);
  ASSERT_TRUE(original.ok());
  auto head = s3_->head_object(truncated);
  ASSERT_TRUE(head.ok());
  // (1) the first half of a valid object, its metadata intact
  ASSERT_TRUE(s3_->put_object(truncated, original->substr(0, original->size() / 2), "application/gzip",
                              head->metadata)
                  .ok());
  // (2) valid gzip of invalid JSON, with a matching checksum
  GzipWriter gz;
  ASSERT_TRUE(gz.write("{\"id\": 1, this is not json\n").ok());
  ASSERT_TRUE(gz.finish().ok());
  ASSERT_TRUE(s3_->put_object(bad_json, gz.out(), "application/gzip",
                              {{"sha256", digest::sha256_hex(gz.out())}, {"rows", "1"}})
                  .ok());
  // (3) intact bytes, wrong checksum
  auto sum_body = s3_->get_object(bad_sum);
  auto sum_head = s3_->head_object(bad_sum);
  ASSERT_TRUE(sum_body.ok() && sum_head.ok());
  auto meta = sum_head->metadata;
  meta["sha256"] = std::string(64, '0');
  ASSERT_TRUE(s3_->put_object(bad_sum, *sum_body, "application/gzip", meta).ok());

  EXPECT_EQ(load(), 3);  // quarantined objects are reported in the exit code
  for (const auto& [key, why] : std::vector<std::pair<std::string, std::string>>{
           {truncated, "truncated"}, {bad_json, "JSON"}, {bad_sum, "checksum mismatch"}}) {
    const std::string q = prefix_ + "quarantine/" + key.substr(prefix_.size());
    EXPECT_TRUE(s3_->head_object(q).ok()) << q;
    auto reason = s3_->get_object(q + ".reason.txt");
    ASSERT_TRUE(reason.ok()) << q;
    EXPECT_NE(reason->find(why), std::string::npos) << *reason;
    auto gone = s3_->head_object(key);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().kind, Error::Kind::kNotFound);
  }
  const int64_t good_trips =
      scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE table_name = 'trips'");
  EXPECT_EQ(good_trips, static_cast<int64_t>(objs->size()) - 3);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE table_name <> 'trips'"), 2);
  // The rest is consistent: the next load has nothing to do and succeeds.
  EXPECT_EQ(load(), 0);
  EXPECT_EQ(verify(), 1);  // three objects' rows are missing from the warehouse, and verify says so
}

// The loader COPYs an object's rows straight into raw.trips while its ids are new, several objects at once;
// an object that carries a corrected row (an id the warehouse already has) must still end as the newest
// version, through the staged upsert.
TEST_F(BatchTest, ParallelLoadersKeepTheNewestVersionOfACorrectedTrip) {
  insert_trips(20000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(run({bin(), "load", "--prefix", prefix_, "--parallel", "4"}), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)), 20000);

  const int64_t first = scalar(*web_, fmt::format("SELECT min(id) FROM trips WHERE vehicle_id > {}", kBase));
  const int64_t middle = scalar(
      *web_,
      fmt::format("SELECT id FROM trips WHERE vehicle_id > {} ORDER BY id OFFSET 12345 LIMIT 1", kBase));
  ASSERT_TRUE(
      web_->exec(fmt::format("UPDATE trips SET latitude = 12.5 WHERE id IN ({}, {})", first, middle)).ok());
  insert_trips(5000, 5000);  // new rows in the same export run as the corrections
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(run({bin(), "load", "--prefix", prefix_, "--parallel", "3"}), 0);
  // verify reconciles with the corrections: the bucket holds both versions of the two rows, the warehouse
  // the newest. The warehouse side is also compared directly.
  EXPECT_EQ(verify(), 0);
  const std::string sums = fmt::format(
      "SELECT count(*) * 1000000 + round(sum(latitude * 1000))::bigint FROM {} WHERE vehicle_id > {}", "{}",
      kBase);
  EXPECT_EQ(scalar(*dw_, fmt::format(fmt::runtime(sums), "raw.trips")),
            scalar(*web_, fmt::format(fmt::runtime(sums), "trips")));
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)), 25000);
  EXPECT_EQ(
      scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE id IN ({}, {}) AND latitude = 12.5",
                               first, middle)),
      2);
  // Every loaded object has its manifest row, and each row names the object it came from.
  EXPECT_EQ(scalar(*dw_,
                   "SELECT count(*) FROM raw.trips t WHERE NOT EXISTS (SELECT 1 FROM raw.load_manifest m "
                   "WHERE m.object_key = t._object_key)"),
            0);
}

TEST_F(BatchTest, SurvivesSigkillAtTwentyRandomPoints) {
  std::mt19937 rng(std::random_device{}());
  insert_trips(60000, 1);
  int killed = 0;
  for (int i = 0; i < 20; ++i) {
    if (i % 5 == 4) insert_trips(5000, 10000 * (i + 1));  // new data between crashes
    const bool exp = i % 2 == 0;
    const auto args =
        exp ? std::vector<std::string>{bin(), "export", "--prefix", prefix_, "--max-rows-per-object", "2000"}
            : std::vector<std::string>{bin(), "load", "--prefix", prefix_};
    const pid_t pid = integration::spawn_logged(args, "/dev/null", kLog);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 700)(rng)));
    if (kill(pid, SIGKILL) == 0) ++killed;
    integration::wait_exit(pid);
  }
  // Finish the work, then everything must reconcile: no row lost, none doubled.
  ASSERT_EQ(run({bin(), "export", "--prefix", prefix_, "--max-rows-per-object", "2000"}), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {}", kBase)),
            60000 + 4 * 5000);
  EXPECT_GT(killed, 10);  // most kills landed mid-run
}

}  // namespace
}  // namespace fp::batch
