// Bucket compaction (common/batch/compaction.h, compact/compactor.h) against the real servers, on scratch
// databases and a prefix of the test's own: closed days' small objects become a few large ones; the
// warehouse that had loaded them records the large ones unread, a warehouse loading from nothing loads them,
// and verify passes for both; a compactor SIGKILLed at random points leaves the bucket in a state that load
// and verify take exactly, and the next pass finishes or cleans what it left.
#include "common/batch/compaction.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <thread>

#include "integration/batch_lane_fixture.h"

namespace fp::integration {
namespace {

constexpr int kBase = 980000;

class CompactionTest : public BatchLaneTest {
 protected:
  CompactionTest() : BatchLaneTest(kBase, "test-compact") {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(insert_fleet());
    // 2024's days are long closed.
    ASSERT_TRUE(web_->exec("SELECT trip_partitions_ensure(ARRAY['2024-04-15', '2024-04-16', "
                           "'2024-04-17']::timestamp[])")
                    .ok());
  }
  void TearDown() override {
    unsetenv("FLEETPIPE_BUCKET_COMPACT_TARGET");
    BatchLaneTest::TearDown();
  }

  int compact(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"compact", "--prefix", prefix_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  }
  int export_small(int rows_per_object) {
    return run({"export", "--prefix", prefix_, "--max-rows-per-object", std::to_string(rows_per_object)});
  }
  // Deletes and corrections, so that the days hold tombstones and several versions of some ids.
  void churn(int salt) {
    ASSERT_TRUE(web_->exec(fmt::format("DELETE FROM trips WHERE vehicle_id > {0} AND id % 97 = {1}; "
                                       "UPDATE trips SET latitude = latitude + 0.001 "
                                       "WHERE vehicle_id > {0} AND id % 89 = {1}",
                                       kBase, salt))
                    .ok());
  }

  struct Listing {
    int64_t run_objects = 0, compacted = 0, intents = 0, committed = 0;
    int64_t intents_committed = 0;  // intents beside their commit: replaced objects still being deleted
    long long largest_compacted = 0;
  };
  Listing listing() {
    Listing l;
    auto objs = s3_->list_all(prefix_);
    EXPECT_TRUE(objs.ok());
    if (!objs) return l;
    for (const auto& o : *objs) {
      if (auto k = batch::parse_data_key(prefix_, o.key); k && k->table == "trips") {
        (k->compaction > 0 ? l.compacted : l.run_objects) += 1;
        if (k->compaction > 0) l.largest_compacted = std::max(l.largest_compacted, o.size);
      } else if (o.key.find("manifests/compactions/c-") != std::string::npos) {
        (o.key.ends_with(".intent.json") ? l.intents : l.committed) += 1;
      }
    }
    // Keys sort intent after commit: "c-N.intent.json" > "c-N.json".
    for (size_t i = 1; i < objs->size(); ++i) {
      const auto& a = (*objs)[i - 1].key;
      const auto& b = (*objs)[i].key;
      if (b.ends_with(".intent.json") && a.ends_with(".json") && !a.ends_with(".intent.json") &&
          a.substr(0, a.size() - 5) == b.substr(0, b.size() - 12))
        ++l.intents_committed;
    }
    return l;
  }

  // The warehouse's live trips equal the source's, id by id and value by value.
  void expect_warehouse_equals_source(pg::Connection& dw) {
    const std::string cols =
        "id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
        "fuel_remaining_percent";
    auto src =
        web_->query(fmt::format("SELECT md5(string_agg(t::text, ',' ORDER BY id)), count(*) FROM (SELECT {} "
                                "FROM trips WHERE vehicle_id > {}) t",
                                cols, kBase));
    auto dst = dw.query(
        fmt::format("SELECT md5(string_agg(t::text, ',' ORDER BY id)), count(*) FROM (SELECT {} FROM "
                    "raw.trips WHERE _deleted_xid IS NULL AND vehicle_id > {}) t",
                    cols, kBase));
    ASSERT_TRUE(src.ok() && dst.ok());
    EXPECT_EQ(*src->get<int64_t>(0, 1), *dst->get<int64_t>(0, 1));
    EXPECT_EQ(*src->get<std::string>(0, 0), *dst->get<std::string>(0, 0));
  }

  // Loads the bucket into a warehouse of its own, from nothing, and verifies against it.
  void load_into_fresh_warehouse_and_verify() {
    ScratchDatabase fresh;
    ASSERT_NO_FATAL_FAILURE(
        fresh.create(cfg_.warehouse, fmt::format("fp_it_compact_fresh_{}", getpid()), "warehouse"));
    const char* saved = std::getenv("DW_POSTGRES_DB");
    const std::string old = saved ? saved : "";
    setenv("DW_POSTGRES_DB", fresh.name().c_str(), 1);
    EXPECT_EQ(load(), 0);
    EXPECT_EQ(verify(), 0);
    setenv("DW_POSTGRES_DB", old.c_str(), 1);
    PgConfig c = cfg_.warehouse;
    c.dbname = fresh.name();
    auto dw = pg::Connection::connect(c);
    ASSERT_TRUE(dw.ok());
    // Compacted objects were read, not recorded: this warehouse never saw what they replaced.
    EXPECT_EQ(
        scalar(*dw, "SELECT count(*) FROM raw.load_manifest WHERE compaction IS NOT NULL AND via_compaction"),
        0);
    EXPECT_GT(scalar(*dw, "SELECT count(*) FROM raw.load_manifest WHERE compaction IS NOT NULL"), 0);
    expect_warehouse_equals_source(*dw);
  }
};

TEST_F(CompactionTest, ClosedDaysBecomeFewLargeObjectsAndEveryReaderSeesEachRowOnce) {
  // A target of 1 MiB: a day of 50 000 rows (~1.25 MB at gzip level 6) does not fit one object.
  setenv("FLEETPIPE_BUCKET_COMPACT_TARGET", "1MiB", 1);
  ASSERT_NO_FATAL_FAILURE(insert_trips(150000, 1));
  ASSERT_EQ(export_small(5000), 0);  // 10 objects a day
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(churn(i));
    ASSERT_EQ(export_small(5000), 0);
  }
  ASSERT_EQ(load(), 0);
  // The newest run (the last churn's) is left for verify's newest-run check.
  ASSERT_NO_FATAL_FAILURE(churn(5));
  ASSERT_EQ(export_small(5000), 0);
  ASSERT_EQ(load(), 0);
  const Listing before = listing();
  ASSERT_GE(before.run_objects, 30);

  ASSERT_EQ(compact({"--dry-run"}), 0);
  EXPECT_EQ(listing().compacted, 0);  // a dry run writes nothing

  ASSERT_EQ(compact(), 0);
  const Listing after = listing();
  EXPECT_EQ(after.intents, 0);
  EXPECT_EQ(after.committed, 3);  // trips' three days (drivers' and vehicles' day is today: not closed)
  EXPECT_LT(after.run_objects + after.compacted, before.run_objects / 2);
  // A day's rows did not fit 1 MiB: cut into objects of about the target (cut after the chunk that crossed
  // it), tombstones in one of their own.
  auto first = batch::read_compaction(*s3_, prefix_, 1);
  ASSERT_TRUE(first.ok()) << first.error().message;
  int rows_objects = 0, delete_objects = 0;
  for (const auto& o : first->outputs)
    (o.kind == batch::ObjectKind::kRows ? rows_objects : delete_objects) += 1;
  EXPECT_GE(rows_objects, 2);
  EXPECT_EQ(delete_objects, 1);
  EXPECT_LT(after.largest_compacted, 3 << 19);
  EXPECT_EQ(batch::CompactionManifest::rows_of(first->outputs, batch::ObjectKind::kRows),
            batch::CompactionManifest::rows_of(first->replaces, batch::ObjectKind::kRows));

  // The warehouse that loaded the small objects records the large ones unread and finishes the compactions.
  ASSERT_EQ(load(), 0);
  EXPECT_GT(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE via_compaction"), 3);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_compactions"), after.committed);
  EXPECT_EQ(verify(), 0);
  expect_warehouse_equals_source(*dw_);

  // A second pass finds nothing to do; a late row on a compacted day is compacted in once its run is not
  // the newest.
  ASSERT_EQ(compact(), 0);
  EXPECT_EQ(listing().committed, after.committed);
  ASSERT_TRUE(
      web_->exec(
              fmt::format("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                          "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                          "fuel_remaining_gallon, color) VALUES ({0} + 1, 777, 1, '2024-04-16 12:00', 40, "
                          "-73, 15, 1, 50, 7.5, 'red'), ({0} + 2, 777, 1, '2024-04-16 13:00', 40, -73, 15, "
                          "1, 50, 7.5, 'red')",
                          kBase))
          .ok());
  ASSERT_EQ(export_small(1), 0);  // two late objects
  ASSERT_EQ(export_small(1), 0);  // (an empty run: the late one is no longer the newest)
  ASSERT_NO_FATAL_FAILURE(churn(7));
  ASSERT_EQ(export_small(5000), 0);
  ASSERT_EQ(compact(), 0);
  EXPECT_GT(listing().committed, after.committed);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  expect_warehouse_equals_source(*dw_);

  // A warehouse built from the bucket alone.
  ASSERT_NO_FATAL_FAILURE(load_into_fresh_warehouse_and_verify());
}

// Both crash windows, set up exactly: killed after the commit with the replaced objects still there (and
// the intent beside the commit), and killed before the commit with the objects written. Load and verify
// take each state as it is; the next pass finishes the first and cleans the second away.
TEST_F(CompactionTest, EachCrashWindowLeavesABucketLoadAndVerifyTakeExactly) {
  ASSERT_NO_FATAL_FAILURE(insert_trips(3000, 1));
  ASSERT_EQ(export_small(40), 0);
  ASSERT_NO_FATAL_FAILURE(churn(1));
  ASSERT_EQ(export_small(40), 0);
  ASSERT_EQ(load(), 0);
  ASSERT_NO_FATAL_FAILURE(churn(2));
  ASSERT_EQ(export_small(40), 0);  // the newest run
  // What the days hold now, kept aside to put replaced objects back as a crash would have left them.
  auto before = s3_->list_all(prefix_ + "trips/");
  ASSERT_TRUE(before.ok());
  for (const auto& o : *before)
    ASSERT_TRUE(s3_->copy_object(o.key, prefix_ + "kept/" + o.key.substr(prefix_.size())).ok());
  const auto put_back = [&](const batch::CompactionManifest& m) {
    for (const auto& r : m.replaces)
      ASSERT_TRUE(s3_->copy_object(prefix_ + "kept/" + r.key.substr(prefix_.size()), r.key).ok()) << r.key;
    auto intent = m;
    intent.committed_at.clear();
    ASSERT_TRUE(s3_->put_object(batch::compaction_intent_key(prefix_, m.compaction), intent.to_json().dump(),
                                "application/json")
                    .ok());
  };

  // After the commit, before the deletes.
  ASSERT_EQ(compact({"--max-days", "1"}), 0);
  auto c1 = batch::read_compaction(*s3_, prefix_, 1);
  ASSERT_TRUE(c1.ok()) << c1.error().message;
  ASSERT_NO_FATAL_FAILURE(put_back(*c1));
  EXPECT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_compactions WHERE compaction = 1"), 1);

  // The next pass finishes compaction 1 and commits 2; then 2 as if killed before its commit.
  ASSERT_EQ(compact({"--max-days", "1"}), 0);
  for (const auto& r : c1->replaces)
    EXPECT_EQ(s3_->head_object(r.key).error().kind, Error::Kind::kNotFound) << r.key;
  auto c2 = batch::read_compaction(*s3_, prefix_, 2);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  ASSERT_NO_FATAL_FAILURE(put_back(*c2));
  ASSERT_TRUE(s3_->delete_object(batch::compaction_key(prefix_, 2)).ok());
  EXPECT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE compaction = 2"),
            0);  // never committed
  expect_warehouse_equals_source(*dw_);

  // The next pass cleans 2 away (its objects and intent) and compacts that day again under the same number.
  ASSERT_EQ(compact({"--max-days", "1"}), 0);
  for (const auto& o : c2->outputs) {
    auto h = s3_->head_object(o.key);
    if (h.ok()) {  // rewritten under the same key by the new compaction 2: then its manifest lists it
      auto again = batch::read_compaction(*s3_, prefix_, 2);
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(std::any_of(again->outputs.begin(), again->outputs.end(), [&](const batch::ObjectEntry& e) {
        return e.key == o.key && e.sha256 == o.sha256;
      }));
    }
  }
  ASSERT_EQ(compact({"--max-days", "50"}), 0);
  EXPECT_EQ(listing().intents, 0);
  EXPECT_EQ(listing().committed, 3);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  expect_warehouse_equals_source(*dw_);
  ASSERT_NO_FATAL_FAILURE(load_into_fresh_warehouse_and_verify());
}

// SIGKILL the compactor at random points (one day of 100 small objects per pass, so each pass takes a while
// and kills land mid-way; the delay adapts to how long passes take on this machine), with new runs, late
// rows, deletes and corrections between passes; after each kill load and verify pass, and at the end the
// bucket holds no leftover and a warehouse loaded from nothing equals the source.
TEST_F(CompactionTest, SurvivesSigkillAtRandomPoints) {
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE(fmt::format("seed {}", seed));
  // 16 days of 500 rows, 100 objects a day.
  ASSERT_TRUE(web_->exec("SELECT trip_partitions_ensure(ARRAY(SELECT d::timestamp FROM generate_series("
                         "'2024-05-01'::date, '2024-05-16', interval '1 day') d))")
                  .ok());
  ASSERT_TRUE(
      web_->exec(
              fmt::format("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                          "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                          "fuel_remaining_gallon, color) SELECT {0} + 1 + g % 10, 50 + g / 1000, 1 + g % "
                          "1000, timestamp '2024-05-01' + g * interval '172.8 seconds', 40, -73, 15, g, "
                          "50, 7.5, 'red' FROM generate_series(0, 7999) g",
                          kBase))
          .ok());
  ASSERT_EQ(export_small(5), 0);
  ASSERT_NO_FATAL_FAILURE(churn(1));
  ASSERT_EQ(export_small(5), 0);
  ASSERT_EQ(load(), 0);
  int mid_way = 0, after_commit = 0, killed = 0;
  int max_delay_ms = 400;
  int passes = 0;
  // 16 passes, more while no kill has landed inside a compaction yet (at most 40).
  for (int i = 0; i < 16 || (mid_way == 0 && i < 40); ++i, ++passes) {
    if (i % 4 == 3) {  // new runs between crashes, each soon no longer the newest
      ASSERT_NO_FATAL_FAILURE(insert_trips(300, 5000 + i));
      ASSERT_NO_FATAL_FAILURE(churn(10 + i));
      ASSERT_EQ(export_small(40), 0);
      ASSERT_EQ(export_small(40), 0);
    }
    const pid_t pid =
        spawn_logged({bin(), "compact", "--prefix", prefix_, "--max-days", "1"}, "/dev/null", kLog);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(5, max_delay_ms)(rng)));
    kill(pid, SIGKILL);
    const int rc = wait_exit(pid);
    if (rc == 128 + SIGKILL) {
      ++killed;
      const Listing at_kill = listing();
      if (at_kill.intents > 0) ++mid_way;  // an intent left: killed between its intent and its end
      if (at_kill.intents_committed > 0) ++after_commit;
      if (at_kill.intents == 0) max_delay_ms = max_delay_ms * 3 / 2;  // too early, before the compaction
    } else {
      ASSERT_EQ(rc, 0);
      max_delay_ms = std::max(20, max_delay_ms / 2);  // the pass ended first: kill sooner
    }
    ASSERT_EQ(load(), 0) << "after pass " << i;
    ASSERT_EQ(verify(), 0) << "after pass " << i;
  }
  fmt::print("compaction kills: {} of {} passes killed, {} mid-way ({} after the commit)\n", killed, passes,
             mid_way, after_commit);
  EXPECT_GT(mid_way, 0) << "no kill landed inside a compaction: the test proved nothing";

  // Passes to the end: nothing left over, everything exact.
  ASSERT_EQ(compact({"--max-days", "50"}), 0);
  const Listing end = listing();
  EXPECT_EQ(end.intents, 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  expect_warehouse_equals_source(*dw_);
  ASSERT_NO_FATAL_FAILURE(load_into_fresh_warehouse_and_verify());
}

}  // namespace
}  // namespace fp::integration
