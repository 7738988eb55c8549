// The batch lane keeps the warehouse true against what users and attackers do to its inputs: deletes,
// clients that send their own _export_xid, a restored or recreated webapp database, objects planted in or
// rewritten in the bucket, and objects built to exhaust the loader's memory. Real stack, real binary; ids
// from 810000 up, a bucket prefix of its own (fixture: integration/batch_lane_fixture.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/digest.h"
#include "common/pg/migrate.h"
#include "integration/batch_lane_fixture.h"
#include "integration/test_support.h"
#include "stack/provision.h"

namespace fp::batch {
namespace {

constexpr int kBase = 810000;

std::string read_log_tail() {
  std::string all;
  if (FILE* f = fopen(integration::BatchLaneTest::kLog, "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) all.append(buf, n);
    fclose(f);
  }
  return all.size() > 20000 ? all.substr(all.size() - 20000) : all;
}

class BatchTrustTest : public integration::BatchLaneTest {
 protected:
  BatchTrustTest() : BatchLaneTest(kBase, "test-trust") {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    insert_fleet();
  }

  std::string where_ours() const { return fmt::format("vehicle_id > {}", kBase); }
  int64_t source_trips() { return scalar(*web_, "SELECT count(*) FROM trips WHERE " + where_ours()); }
  int64_t live_trips() {
    return scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE _deleted_xid IS NULL AND " + where_ours());
  }

  // The newest committed run manifest.
  RunManifest last_manifest() {
    auto st = read_manifest_state(*s3_, prefix_);
    EXPECT_TRUE(st.ok() && !st->committed_runs.empty());
    auto m = read_manifest(*s3_, prefix_, st->committed_runs.back());
    EXPECT_TRUE(m.ok());
    return *m;
  }

  // Rewrites an object and its entry in its committed manifest consistently (what only someone with write
  // access to manifests could do): the loader's own checks on the content are then all that stands.
  void rewrite_listed(RunManifest m, size_t index, const std::string& body, int64_t rows) {
    ObjectEntry& e = m.objects.at(index);
    ASSERT_TRUE(s3_->put_object(e.key, body, "application/gzip").ok());
    e.bytes = static_cast<int64_t>(body.size());
    e.sha256 = digest::sha256_hex(body);
    e.rows = rows;
    ASSERT_TRUE(
        s3_->put_object(manifest_key(prefix_, m.range.run), m.to_json().dump(), "application/json").ok());
  }

  static std::string gzip(const std::string& text) {
    GzipWriter gz;
    EXPECT_TRUE(gz.write(text).ok());
    EXPECT_TRUE(gz.finish().ok());
    return gz.out();
  }

  // Exit code and peak RSS (KiB) of `fleetpipe args`.
  std::pair<int, long> run_measured(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = integration::spawn_logged(argv, "/dev/null", kLog);
    return pid < 0 ? std::pair<int, long>{-1, 0} : integration::wait_exit_with_peak_rss(pid);
  }

  std::string quarantine_reason(const std::string& key) {
    auto r = s3_->get_object(quarantine_key(prefix_, key) + ".reason.txt");
    return r ? *r : std::string("(no reason file)");
  }
};

TEST_F(BatchTrustTest, DeletesUpdatesAndReinsertsEndAtTheNewestVersion) {
  insert_trips(20000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  ASSERT_EQ(verify(), 0);
  // Clear of the 1 % deleted (id % 100 = 3) and corrected (= 4) below, and so are victim + 1 and + 2; and
  // of vehicle base + 10, deleted below (consecutive ids are on consecutive vehicles: see insert_trips).
  const int64_t victim =
      scalar(*web_, fmt::format("SELECT min(id) FROM trips WHERE id % 100 BETWEEN 10 AND 90 "
                                "AND vehicle_id BETWEEN {} AND {}",
                                kBase + 1, kBase + 7));
  // 1 % deleted, 1 % corrected; a vehicle and its trips deleted; a driver deleted.
  ASSERT_TRUE(web_->exec("DELETE FROM trips WHERE id % 100 = 3 AND " + where_ours()).ok());
  ASSERT_TRUE(web_->exec("UPDATE trips SET latitude = 10 WHERE id % 100 = 4 AND " + where_ours()).ok());
  ASSERT_TRUE(
      web_->exec(fmt::format("DELETE FROM trips WHERE vehicle_id = {0}; DELETE FROM vehicles WHERE id = "
                             "{0}; DELETE FROM drivers WHERE id = {0}",
                             kBase + 10))
          .ok());
  // Deleted then re-inserted in one transaction under the same id: live, with the new values.
  ASSERT_TRUE(web_->exec(fmt::format("BEGIN; CREATE TEMP TABLE keep AS SELECT * FROM trips WHERE id = {0}; "
                                     "DELETE FROM trips WHERE id = {0}; UPDATE keep SET latitude = 11; "
                                     "INSERT INTO trips SELECT * FROM keep; COMMIT",
                                     victim))
                  .ok());
  // Same natural key deleted and re-inserted under a new id (a later transaction).
  const int64_t second = victim + 1;
  ASSERT_TRUE(
      web_->exec(
              fmt::format("CREATE TEMP TABLE keep2 AS SELECT * FROM trips WHERE id = {0}; "
                          "DELETE FROM trips WHERE id = {0}; "
                          "ALTER TABLE keep2 DROP COLUMN id, DROP COLUMN _export_xid; "
                          "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                          "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                          "fuel_remaining_gallon, color) SELECT * FROM keep2",
                          second))
          .ok());
  // An update racing a delete: updated in one transaction, deleted in the next (same export range).
  const int64_t raced = victim + 2;
  ASSERT_TRUE(web_->exec(fmt::format("UPDATE trips SET latitude = 12 WHERE id = {0}", raced)).ok());
  ASSERT_TRUE(web_->exec(fmt::format("DELETE FROM trips WHERE id = {0}", raced)).ok());

  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(run({"load", "--prefix", prefix_, "--parallel", "3"}), 0);
  EXPECT_EQ(verify(), 0) << read_log_tail();
  EXPECT_EQ(live_trips(), source_trips());
  EXPECT_EQ(
      scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE id = {} AND _deleted_xid IS NULL AND "
                               "latitude = 11",
                               victim)),
      1);
  EXPECT_EQ(
      scalar(*dw_, fmt::format("SELECT count(*) FROM raw.trips WHERE id IN ({}, {}) AND _deleted_xid IS NOT "
                               "NULL",
                               second, raced)),
      2);
  EXPECT_EQ(
      scalar(*dw_, fmt::format("SELECT count(*) FROM raw.vehicles WHERE id = {} AND _deleted_xid IS NOT NULL",
                               kBase + 10)),
      1);
  EXPECT_EQ(
      scalar(*dw_, fmt::format("SELECT count(*) FROM raw.drivers WHERE id = {} AND _deleted_xid IS NOT NULL",
                               kBase + 10)),
      1);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE latitude = 10 AND _deleted_xid IS NULL AND " +
                             where_ours()),
            scalar(*web_, "SELECT count(*) FROM trips WHERE latitude = 10 AND " + where_ours()));
  // The tombstones travelled as their own objects, listed in the manifest.
  const RunManifest m = last_manifest();
  int deletes_objects = 0;
  for (const auto& o : m.objects) deletes_objects += o.kind == ObjectKind::kDeletes;
  EXPECT_GT(deletes_objects, 0);

  // A warehouse row brought back to life behind the loader's back is caught, and named by id.
  ASSERT_TRUE(
      dw_->exec(
             fmt::format("UPDATE raw.trips SET _deleted_xid = NULL, _deleted_at = NULL WHERE id = {}", raced))
          .ok());
  const std::string out = "/tmp/fleetpipe-trust-verify.out";
  const pid_t pid = integration::spawn_logged({bin(), "verify", "--prefix", prefix_}, out.c_str(), kLog);
  EXPECT_EQ(integration::wait_exit(pid), 1);
  std::string printed;
  if (FILE* f = fopen(out.c_str(), "r")) {
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) printed.append(buf, n);
    fclose(f);
  }
  std::remove(out.c_str());
  EXPECT_NE(printed.find(fmt::format("{} extra", raced)), std::string::npos) << printed;
}

TEST_F(BatchTrustTest, AClientSentExportXidIsOverwritten) {
  insert_trips(100, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  // A restored dump carries old _export_xid values; so can any client.
  auto r = web_->query(fmt::format(
      "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
      "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color, _export_xid) "
      "VALUES ({}, 999, 1, '2024-04-15 12:00:00', 1, 1, 15, 0, 50, 7.5, 'red', '3') "
      "RETURNING _export_xid::text = pg_current_xact_id()::text",
      kBase + 1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(*r->get<bool>(0, 0));
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE trip_id = 999 AND " + where_ours()), 1);
}

// The same database, but the bucket's watermark lies beyond anything it has reached (the database was
// restored to an earlier point from a physical backup): exporting would skip every row until then.
TEST_F(BatchTrustTest, AWatermarkAheadOfTheSourceIsRefused) {
  insert_trips(100, 1);
  ASSERT_EQ(export_(), 0);
  RunManifest m = last_manifest();
  ASSERT_FALSE(m.source.empty());
  m.range.xid_to = 1000000000000;
  ASSERT_TRUE(
      s3_->put_object(manifest_key(prefix_, m.range.run), m.to_json().dump(), "application/json").ok());
  ASSERT_EQ(truncate(kLog, 0), 0);
  EXPECT_EQ(export_(), 1);
  EXPECT_NE(read_log_tail().find("ahead of the source's next transaction id"), std::string::npos)
      << read_log_tail();
  EXPECT_EQ(last_manifest().range.run, m.range.run);  // nothing was written
  ASSERT_EQ(run({"export", "--prefix", prefix_, "--new-epoch"}), 0);
  EXPECT_EQ(last_manifest().range.epoch, 2);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0);
  EXPECT_EQ(live_trips(), source_trips());
}

TEST_F(BatchTrustTest, TruncateIsRefusedBecauseItWouldBypassTheDeleteLog) {
  auto st = web_->exec("BEGIN; TRUNCATE trips, trip_latest; ROLLBACK");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "0A000");  // feature_not_supported, from the trigger
  (void)web_->exec("ROLLBACK");
}

// A second webapp database stands for a restored or recreated one: its own oid, its own rows.
class BatchEpochTest : public BatchTrustTest {
 protected:
  void SetUp() override {
    BatchTrustTest::SetUp();
    if (HasFatalFailure()) return;
    PgConfig admin = cfg_.webapp;
    admin.dbname = "postgres";
    auto a = pg::Connection::connect(admin);
    ASSERT_TRUE(a.ok()) << a.error().message;
    admin_.emplace(std::move(*a));
    // Two statements: neither may run inside the implicit transaction of a multi-statement query.
    ASSERT_TRUE(admin_->exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", kDb)).ok());
    ASSERT_TRUE(admin_->exec(fmt::format("CREATE DATABASE {}", kDb)).ok());
    PgConfig other = cfg_.webapp;
    other.dbname = kDb;
    auto o = pg::Connection::connect(other);
    ASSERT_TRUE(o.ok()) << o.error().message;
    other_.emplace(std::move(*o));
    auto applied = migrate::apply(*other_, std::filesystem::path("sql") / "webapp");
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    auto granted = stack::provision_service_roles(*other_, cfg_, ".", "webapp");
    ASSERT_TRUE(granted.ok()) << granted.error().message;
  }
  void TearDown() override {
    other_.reset();
    if (admin_) (void)admin_->exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", kDb));
    BatchTrustTest::TearDown();
  }

  // `fleetpipe args` against the other database.
  int run_other(const std::vector<std::string>& args) {
    const std::string ours = std::getenv("POSTGRES_DB") ? std::getenv("POSTGRES_DB") : "";
    setenv("POSTGRES_DB", kDb, 1);
    const int rc = run(args);
    setenv("POSTGRES_DB", ours.c_str(), 1);  // the test's own scratch database again
    return rc;
  }

  static constexpr const char* kDb = "fleetpipe_epoch_test";
  std::optional<pg::Connection> admin_, other_;
};

TEST_F(BatchEpochTest, AForeignWatermarkIsRefusedAndANewEpochRecovers) {
  insert_trips(3000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  ASSERT_EQ(verify(), 0);
  // The "restored" database holds part of the fleet: drivers and vehicles, and trips of one vehicle only.
  ASSERT_TRUE(other_
                  ->exec(fmt::format(
                      "INSERT INTO drivers (id, name, license_number) SELECT {0} + g, 'D' || g, 'E{0}-' || "
                      "g FROM generate_series(1, 10) g; INSERT INTO vehicles (id, driver_id, make, model, "
                      "fuel_capacity, color) SELECT {0} + g, {0} + g, 'M', 'M', 15, 'blue' FROM "
                      "generate_series(1, 10) g; INSERT INTO trips (vehicle_id, trip_id, "
                      "measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, "
                      "distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) SELECT "
                      "{0} + 1, 1, g, timestamp '2024-04-15' + g * interval '1 minute', 1, 1, 15, 0, 50, "
                      "7.5, 'red' FROM generate_series(1, 50) g",
                      kBase))
                  .ok());
  ASSERT_EQ(truncate(kLog, 0), 0);
  EXPECT_EQ(run_other({"export", "--prefix", prefix_}), 1);
  const std::string said = read_log_tail();
  EXPECT_NE(said.find("belongs to"), std::string::npos) << said;
  EXPECT_NE(said.find("--new-epoch"), std::string::npos) << said;
  EXPECT_EQ(last_manifest().range.epoch, 1);

  // A row carrying a transaction id from the future (restored before the insert trigger existed).
  ASSERT_TRUE(
      other_
          ->exec("ALTER TABLE trips DISABLE TRIGGER trips_export_xid_ins; "
                 "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
                 "longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                 "fuel_remaining_gallon, color, _export_xid) VALUES (" +
                 std::to_string(kBase + 1) +
                 ", 2, 1, '2024-04-16', 1, 1, 15, 0, 50, 7.5, 'red', '900000000'); "
                 "ALTER TABLE trips ENABLE TRIGGER trips_export_xid_ins")
          .ok());

  ASSERT_EQ(run_other({"export", "--prefix", prefix_, "--new-epoch"}), 0);
  EXPECT_EQ(last_manifest().range.epoch, 2);
  EXPECT_EQ(last_manifest().range.xid_from, 0u);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(run_other({"verify", "--prefix", prefix_}), 0) << read_log_tail();
  // The warehouse now mirrors the other database: the first database's other trips are swept away.
  EXPECT_EQ(live_trips(), 51);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_epochs WHERE prefix = '" + prefix_ + "'"), 1);
  // From here on the other database exports incrementally, and the first one is refused in turn.
  ASSERT_TRUE(other_
                  ->exec(fmt::format("DELETE FROM trips WHERE vehicle_id = {} AND measurement_sequence <= 5",
                                     kBase + 1))
                  .ok());
  ASSERT_EQ(run_other({"export", "--prefix", prefix_}), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(run_other({"verify", "--prefix", prefix_}), 0);
  EXPECT_EQ(live_trips(), 45);  // 5 of trip 1 and the one measurement of trip 2 deleted
  EXPECT_EQ(export_(), 1);
}

TEST_F(BatchTrustTest, OnlyObjectsOfCommittedManifestsLoad) {
  insert_trips(6000, 1);
  ASSERT_EQ(export_(), 0);
  // Planted: a well-formed object with metadata, under a data key no manifest lists, with a "newest" version
  // that would pin its row against every later update.
  const RunManifest m = last_manifest();
  const ObjectEntry& real = m.objects.front();
  const std::string planted = data_key(prefix_, "trips", "2024-04-15", 1, 1, 99);
  const std::string body = gzip(fmt::format(
      R"({{"id":{},"vehicle_id":{},"trip_id":1,"measurement_sequence":1,"measurement_time":"2024-04-15 00:00:00",)"
      R"("latitude":0,"longitude":0,"fuel_capacity":15,"distance_traveled":0,"fuel_remaining_percent":50,)"
      R"("fuel_remaining_gallon":7.5,"color":"red","_source_xid":9000000000000}})"
      "\n",
      real.first_id, kBase + 1));
  ASSERT_TRUE(s3_->put_object(planted, body, "application/gzip",
                              {{"sha256", digest::sha256_hex(body)}, {"rows", "1"}, {"table", "trips"}})
                  .ok());
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE object_key = '" + planted + "'"), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE _source_xid >= 9000000000000"), 0);
  EXPECT_EQ(verify(), 1);  // verify names the unlisted object
  ASSERT_TRUE(s3_->delete_object(planted).ok());
  EXPECT_EQ(verify(), 0);

  // A loaded object rewritten in place is reported, never silently skipped.
  auto original = s3_->get_object(real.key);
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(s3_->put_object(real.key, gzip("{}\n"), "application/gzip").ok());
  EXPECT_EQ(verify(), 1);
  ASSERT_TRUE(s3_->put_object(real.key, *original, "application/gzip").ok());
  EXPECT_EQ(verify(), 0);  // the same bytes again: the same ETag (MD5 of a single-part upload)
}

TEST_F(BatchTrustTest, ObjectsThatDoNotMatchTheirManifestAreQuarantinedWithAReason) {
  insert_trips(25000, 1);  // 5+ trips objects
  ASSERT_EQ(export_(), 0);
  RunManifest m = last_manifest();
  std::vector<size_t> trips;
  for (size_t i = 0; i < m.objects.size(); ++i)
    if (m.objects[i].table == "trips") trips.push_back(i);
  ASSERT_GE(trips.size(), 5u);
  const auto key = [&](int n) { return m.objects[trips[n]].key; };
  // (0) truncated: the size differs from the manifest's.
  auto original = s3_->get_object(key(0));
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(s3_->put_object(key(0), original->substr(0, original->size() / 2), "application/gzip").ok());
  // (1) same size, one byte flipped: the checksum differs.
  auto flip = s3_->get_object(key(1));
  ASSERT_TRUE(flip.ok());
  (*flip)[flip->size() / 2] ^= 0x20;
  ASSERT_TRUE(s3_->put_object(key(1), *flip, "application/gzip").ok());
  // (2) manifest and object rewritten together: invalid JSON.
  rewrite_listed(m, trips[2], gzip("{\"id\": 1, this is not json\n"), 1);
  m = last_manifest();
  // (3) ... a version outside the run's transaction range.
  {
    GunzipReader g;
    std::string text;
    auto body = s3_->get_object(key(3));
    ASSERT_TRUE(body.ok() && g.write(*body, text).ok());
    const std::string line = text.substr(0, text.find('\n'));
    const std::string forged = line.substr(0, line.rfind(':') + 1) + "9000000000000}\n";
    rewrite_listed(m, trips[3], gzip(forged), 1);
    m = last_manifest();
  }
  EXPECT_EQ(load(), 3);  // quarantined objects are reported in the exit code
  for (const auto& [k, why] :
       std::vector<std::pair<std::string, std::string>>{{key(0), "size"},
                                                        {key(1), "checksum mismatch"},
                                                        {key(2), "JSON"},
                                                        {key(3), "transaction range"}}) {
    EXPECT_TRUE(s3_->head_object(quarantine_key(prefix_, k)).ok()) << k;
    const std::string reason = quarantine_reason(k);
    EXPECT_NE(reason.find(why), std::string::npos) << reason;
    auto gone = s3_->head_object(k);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().kind, Error::Kind::kNotFound);
  }
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_quarantine WHERE starts_with(object_key, '" +
                             prefix_ + "')"),
            4);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE table_name = 'trips'"),
            static_cast<int64_t>(trips.size()) - 4);
  // The rest is consistent: the next load has nothing to do and succeeds; verify reports the missing rows.
  EXPECT_EQ(load(), 0);
  EXPECT_EQ(verify(), 1);
}

TEST_F(BatchTrustTest, AGzipBombIsQuarantinedWithinTheMemoryBound) {
  insert_trips(12000, 1);
  ASSERT_EQ(export_(), 0);
  RunManifest m = last_manifest();
  size_t victim = m.objects.size(), lines = m.objects.size();
  for (size_t i = 0; i < m.objects.size(); ++i) {
    if (m.objects[i].table != "trips") continue;
    if (victim == m.objects.size())
      victim = i;
    else if (lines == m.objects.size())
      lines = i;
  }
  ASSERT_LT(lines, m.objects.size());
  // 256 MiB of one endless line compresses to ~256 KiB: listed honestly (bytes, sha256), claiming 10 rows.
  GzipWriter gz(9);
  const std::string spaces(8 << 20, ' ');
  ASSERT_TRUE(gz.write("{\"id\":").ok());
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(gz.write(spaces).ok());
  ASSERT_TRUE(gz.finish().ok());
  rewrite_listed(m, victim, gz.out(), 10);
  m = last_manifest();
  // And short valid lines far beyond the listed row count.
  {
    GunzipReader g;
    std::string text;
    auto body = s3_->get_object(m.objects[lines].key);
    ASSERT_TRUE(body.ok() && g.write(*body, text).ok());
    const std::string line = text.substr(0, text.find('\n') + 1);
    GzipWriter many(9);
    for (int i = 0; i < 200000; ++i) ASSERT_TRUE(many.write(line).ok());
    ASSERT_TRUE(many.finish().ok());
    rewrite_listed(m, lines, many.out(), 10);
  }
  const auto [rc, rss_kb] = run_measured({"load", "--prefix", prefix_});
  EXPECT_EQ(rc, 3);
  EXPECT_LT(rss_kb, 100 * 1024) << "peak RSS " << rss_kb << " KiB";
  std::printf("load with a 256 MiB-line object and an over-long object: peak RSS %ld KiB\n", rss_kb);
  EXPECT_NE(quarantine_reason(m.objects[victim].key).find("longer than"), std::string::npos)
      << quarantine_reason(m.objects[victim].key);
  EXPECT_NE(quarantine_reason(m.objects[lines].key).find("more than the manifest's 10 rows"),
            std::string::npos)
      << quarantine_reason(m.objects[lines].key);
  // The other objects still loaded.
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.load_manifest WHERE table_name = 'trips'"),
            static_cast<int64_t>(std::count_if(m.objects.begin(), m.objects.end(),
                                               [](const ObjectEntry& o) { return o.table == "trips"; })) -
                2);
}

}  // namespace
}  // namespace fp::batch
