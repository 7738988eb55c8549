// The batch lane (export -> bucket -> load -> verify) against the running stack, driving the real
// `build/fleetpipe` binary as a child process. Every test works under its own bucket prefix, uses vehicle and
// driver ids from 800000 up, empties the warehouse's raw tables first (only the loader writes them) and
// removes its rows and objects afterwards.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/digest.h"
#include "integration/batch_lane_fixture.h"

namespace fp::batch {
namespace {

constexpr int kBase = 800000;

class BatchTest : public integration::BatchLaneTest {
 protected:
  BatchTest() : BatchLaneTest(kBase, "test-batch") {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    insert_fleet();
  }

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

// Export finds its watermark from manifests/HEAD.json and the keys after it, not from a listing of the whole
// history: a head left stale (a crash between the commit and its update) still gives the next run number, and
// a bucket without a head (written before heads existed) falls back to the full listing and gets one.
TEST_F(BatchTest, ExportFindsItsWatermarkFromTheManifestHead) {
  auto head = [&]() -> int64_t {
    auto body = s3_->get_object(head_key(prefix_));
    if (!body) return -1;
    return nlohmann::json::parse(*body).value("run", int64_t{-1});
  };
  auto runs = [&] {
    auto st = read_manifest_state(*s3_, prefix_);
    EXPECT_TRUE(st.ok());
    return st ? st->committed_runs : std::vector<int64_t>{};
  };
  insert_trips(1000, 1);
  ASSERT_EQ(export_(), 0);
  insert_trips(1000, 10);
  ASSERT_EQ(export_(), 0);
  EXPECT_EQ(head(), 2);

  // Stale: the head says run 1 while run 2 is committed; the next run is 3, run 2 is left as it was.
  ASSERT_TRUE(write_manifest_head(*s3_, prefix_, 1).ok());
  const auto run2 = s3_->get_object(manifest_key(prefix_, 2));
  ASSERT_TRUE(run2.ok());
  insert_trips(1000, 20);
  ASSERT_EQ(export_(), 0);
  EXPECT_EQ(head(), 3);
  EXPECT_EQ(*s3_->get_object(manifest_key(prefix_, 2)), *run2);

  // None: the full listing, and a head again.
  ASSERT_TRUE(s3_->delete_object(head_key(prefix_)).ok());
  insert_trips(1000, 30);
  ASSERT_EQ(export_(), 0);
  EXPECT_EQ(head(), 4);
  EXPECT_EQ(runs(), (std::vector<int64_t>{1, 2, 3, 4}));

  // What read_manifest_head sees: the head's run and those after it, with the pending intent.
  auto st = read_manifest_head(*s3_, prefix_);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->committed_runs, (std::vector<int64_t>{4}));
  EXPECT_FALSE(st->pending_intent);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
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

// The loader COPYs an object's rows straight into raw.trips while its ids are new, several objects at once;
// an object that carries a corrected row (an id the warehouse already has) must still end as the newest
// version, through the staged upsert.
TEST_F(BatchTest, ParallelLoadersKeepTheNewestVersionOfACorrectedTrip) {
  insert_trips(20000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(run({"load", "--prefix", prefix_, "--parallel", "4"}), 0);
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
  ASSERT_EQ(run({"load", "--prefix", prefix_, "--parallel", "3"}), 0);
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

// Two exports, then two loads, started together: the advisory locks let one of each through (the other
// exits 1 or finds nothing left), and in the end every id is in exactly one committed object and verify
// passes.
TEST_F(BatchTest, TwoExportsAndTwoLoadsAtOnceEndWithEveryIdOnce) {
  insert_trips(30000, 1);
  auto both = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t a = integration::spawn_logged(argv, "/dev/null", kLog);
    const pid_t b = integration::spawn_logged(argv, "/dev/null", kLog);
    return std::pair<int, int>{integration::wait_exit(a), integration::wait_exit(b)};
  };
  const auto [e1, e2] = both({"export", "--prefix", prefix_, "--max-rows-per-object", "1000"});
  EXPECT_TRUE((e1 == 0 && (e2 == 0 || e2 == 1)) || (e2 == 0 && e1 == 1)) << e1 << " " << e2;
  const auto [l1, l2] = both({"load", "--prefix", prefix_});
  EXPECT_TRUE((l1 == 0 && (l2 == 0 || l2 == 1)) || (l2 == 0 && l1 == 1)) << l1 << " " << l2;
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  // Every trip id of ours in exactly one object that a committed manifest lists.
  auto state = read_manifest_state(*s3_, prefix_);
  ASSERT_TRUE(state.ok());
  std::map<int64_t, int> seen;
  for (int64_t run : state->committed_runs) {
    auto m = read_manifest(*s3_, prefix_, run);
    ASSERT_TRUE(m.ok());
    for (const auto& o : m->objects) {
      if (o.table != "trips" || o.kind != ObjectKind::kRows) continue;
      auto body = s3_->get_object(o.key);
      ASSERT_TRUE(body.ok()) << o.key;
      GunzipReader g;
      std::string text;
      ASSERT_TRUE(g.write(*body, text).ok());
      for (size_t p = 0; p < text.size();) {
        const size_t nl = text.find('\n', p);
        const auto line = std::string_view(text).substr(p, nl - p);
        p = nl == std::string::npos ? text.size() : nl + 1;
        const auto vid = line.find("\"vehicle_id\":");
        if (vid == std::string_view::npos || std::atoi(line.data() + vid + 13) <= kBase) continue;
        ++seen[std::atoll(line.data() + 6)];  // {"id":<n>,...
      }
    }
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()),
            scalar(*web_, fmt::format("SELECT count(*) FROM trips WHERE vehicle_id > {}", kBase)));
  int doubled = 0;
  for (const auto& [id, n] : seen) doubled += n != 1;
  EXPECT_EQ(doubled, 0);
}

// SIGTERM to export and SIGINT to load mid-run: each exits 130 with its work in hand rolled back (export's
// run stays pending and is redone whole, load's object in flight is not recorded), and a plain rerun of
// each finishes the job.
TEST_F(BatchTest, SigtermAndSigintStopExportAndLoadWithExit130AndNothingHalfDone) {
  insert_trips(60000, 1);
  // Starts the command, waits (20 s at most) until `started` says it is mid-work, then sends sig.
  auto interrupted = [&](const std::vector<std::string>& args, int sig,
                         const std::function<bool()>& started) {
    std::vector<std::string> argv = {bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = integration::spawn_logged(argv, "/dev/null", kLog);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!started() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    kill(pid, sig);
    return integration::wait_exit(pid);
  };
  // The export is mid-run once its intent is written (600 objects of 100 rows follow).
  const auto intent_written = [&] {
    auto st = read_manifest_state(*s3_, prefix_);
    return st.ok() && st->pending_intent.has_value();
  };
  EXPECT_EQ(
      interrupted({"export", "--prefix", prefix_, "--max-rows-per-object", "100"}, SIGTERM, intent_written),
      130);
  auto state = read_manifest_state(*s3_, prefix_);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->committed_runs.empty());
  EXPECT_TRUE(state->pending_intent.has_value());  // the run is redone, never half committed
  ASSERT_EQ(run({"export", "--prefix", prefix_, "--max-rows-per-object", "100"}), 0);
  // The load is mid-run once its first object is committed.
  const auto first_object_loaded = [&] {
    auto r = dw_->query("SELECT count(*) FROM raw.load_manifest");
    return r.ok() && *r->get<int64_t>(0, 0) > 0;
  };
  EXPECT_EQ(interrupted({"load", "--prefix", prefix_, "--parallel", "1"}, SIGINT, first_object_loaded), 130);
  const int64_t loaded = scalar(*dw_, "SELECT count(*) FROM raw.load_manifest");
  EXPECT_GT(loaded, 0);
  // Every recorded object has all its rows: nothing half loaded.
  EXPECT_EQ(
      scalar(*dw_, "SELECT count(*) FROM raw.trips"),
      scalar(*dw_, "SELECT coalesce(sum(row_count), 0) FROM raw.load_manifest WHERE table_name = 'trips'"));
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
}

// SIGKILL export and load at 20 random points while the source keeps changing (inserts, deletes, updates),
// then let them finish: the warehouse's live rows must equal the source's. Small objects (50 rows: an export
// of 10 000 rows writes 200 of them) and one load connection keep each run busy for seconds, so the kills
// land mid-run, not after the exit; before each killed load, an export runs to its end so that the load has
// committed runs to work on.
TEST_F(BatchTest, SurvivesSigkillAtTwentyRandomPoints) {
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE(fmt::format("seed {}", seed));
  insert_trips(60000, 1);
  int killed = 0;
  for (int i = 0; i < 20; ++i) {
    if (i % 5 == 4) insert_trips(5000, 10000 * (i + 1));     // new data between crashes
    if (i % 2 == 0) insert_trips(10000, 300000 + 1000 * i);  // every export has 200 objects to write
    if (i % 5 == 2) {                                        // deletes and corrections between crashes
      ASSERT_TRUE(web_->exec(fmt::format("DELETE FROM trips WHERE vehicle_id > {0} AND id % 97 = {1}; "
                                         "UPDATE trips SET latitude = latitude + 0.001 "
                                         "WHERE vehicle_id > {0} AND id % 89 = {1}",
                                         kBase, i))
                      .ok());
    }
    const bool exp = i % 2 == 0;
    // A load only finds work in committed runs, and every export of the loop is killed: commit first.
    if (!exp) {
      ASSERT_EQ(run({"export", "--prefix", prefix_, "--max-rows-per-object", "200"}), 0);
    }
    const auto args =
        exp ? std::vector<std::string>{bin(), "export", "--prefix", prefix_, "--max-rows-per-object", "50"}
            : std::vector<std::string>{bin(), "load", "--prefix", prefix_, "--parallel", "1"};
    const pid_t pid = integration::spawn_logged(args, "/dev/null", kLog);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    kill(pid, SIGKILL);
    // Only a kill that found the process still running counts (one that already exited returned 0).
    const int rc = integration::wait_exit(pid);
    if (rc == 128 + SIGKILL)
      ++killed;
    else
      std::printf("kill %d (%s) came after the exit (code %d)\n", i, exp ? "export" : "load", rc);
  }
  // Finish the work, then everything must reconcile: no row lost, none doubled, no deleted row left live.
  ASSERT_EQ(run({"export", "--prefix", prefix_, "--max-rows-per-object", "2000"}), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  const int64_t source =
      scalar(*web_, fmt::format("SELECT count(*) FROM trips WHERE vehicle_id > {}", kBase));
  EXPECT_LT(source, 60000 + 4 * 5000 + 10 * 10000);  // the deletes happened
  EXPECT_EQ(
      scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id > {} AND _deleted_xid IS "
                               "NULL",
                               kBase)),
      source);
  EXPECT_GT(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE _deleted_xid IS NOT NULL"), 0);
  EXPECT_GE(killed, 14) << "most kills must land mid-run";
}

}  // namespace
}  // namespace fp::batch
