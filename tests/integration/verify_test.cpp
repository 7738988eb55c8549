// `fleetpipe verify`'s exact check of the newest run (source->bucket (newest run), load/verify_newest.h):
// it passes on an honest run, also after rows of it were updated and deleted in the source; and it fails,
// naming what is wrong, when the run's objects hold an id twice, lack a row of the run's range, or hold an
// id the source never had. The objects are rewritten together with their manifest entries (sha256, bytes,
// rows), so only this stage can tell. Also: the newest-run scope, and the whole-history source->warehouse
// stage reading only the days that changed (load/verify_days.h).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/digest.h"
#include "integration/batch_lane_fixture.h"

namespace fp::batch {
namespace {

constexpr int kBase = 960000;
constexpr const char* kStage = "source->bucket (newest run)";

class VerifyTest : public integration::BatchLaneTest {
 protected:
  VerifyTest() : BatchLaneTest(kBase, "test-verify") {}
  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    insert_fleet();
  }

  // verify's exit code and its `stage` line for trips ("" when absent), `extra` added to its arguments.
  std::pair<int, std::string> verify_trips(const std::string& stage,
                                           const std::vector<std::string>& extra = {}) {
    const std::string out = fmt::format("/tmp/fleetpipe-verify-test-{}.out", getpid());
    std::remove(out.c_str());
    std::vector<std::string> args = {bin(), "verify", "--prefix", prefix_};
    args.insert(args.end(), extra.begin(), extra.end());
    const int rc = integration::wait_exit(integration::spawn_logged(args, out.c_str(), kLog));
    std::ifstream lines(out);
    for (std::string line; std::getline(lines, line);)
      if (line.find(" " + stage + " ") != std::string::npos && line.find(" trips ") != std::string::npos)
        return {rc, line};
    return {rc, ""};  // the file is replaced by the next call
  }
  std::pair<int, std::string> verify_newest() { return verify_trips(kStage); }

  RunManifest newest() {
    auto st = read_manifest_state(*s3_, prefix_);
    EXPECT_TRUE(st.ok() && !st->committed_runs.empty());
    auto m = read_manifest(*s3_, prefix_, st->committed_runs.back());
    EXPECT_TRUE(m.ok());
    return *m;
  }

  static size_t first_trips_object(const RunManifest& m) {
    for (size_t i = 0; i < m.objects.size(); ++i)
      if (m.objects[i].table == "trips" && m.objects[i].kind == ObjectKind::kRows) return i;
    return m.objects.size();
  }

  std::vector<std::string> object_lines(const std::string& key) {
    auto body = s3_->get_object(key);
    EXPECT_TRUE(body.ok());
    std::string text;
    GunzipReader gz;
    EXPECT_TRUE(gz.write(body ? *body : std::string(), text).ok());
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(line);
    return out;
  }

  // Replaces the object's rows and its manifest entry together (what only someone with write access to
  // the bucket could do).
  void rewrite(RunManifest m, size_t index, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    GzipWriter gz;
    ASSERT_TRUE(gz.write(text).ok());
    ASSERT_TRUE(gz.finish().ok());
    ObjectEntry& e = m.objects.at(index);
    ASSERT_TRUE(s3_->put_object(e.key, gz.out(), "application/gzip").ok());
    e.bytes = static_cast<int64_t>(gz.out().size());
    e.sha256 = digest::sha256_hex(gz.out());
    e.rows = static_cast<int64_t>(lines.size());
    ASSERT_TRUE(
        s3_->put_object(manifest_key(prefix_, m.range.run), m.to_json().dump(), "application/json").ok());
  }

  // The line with its "id" replaced.
  static std::string with_id(const std::string& line, int64_t id) {
    const auto comma = line.find(',');
    return fmt::format("{{\"id\":{}{}", id, line.substr(comma));
  }
};

TEST_F(VerifyTest, TheNewestRunIsCheckedIdByIdAgainstTheSource) {
  insert_trips(3000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  auto [rc, line] = verify_newest();
  EXPECT_EQ(rc, 0) << line;
  EXPECT_EQ(line.rfind("PASS", 0), 0u) << line;
  EXPECT_NE(line.find("3000 rows in its objects = 3000 source rows of its range + 0 changed"),
            std::string::npos)
      << line;

  // Rows of the run updated and deleted in the source since are accounted for, not extras.
  ASSERT_TRUE(web_->exec(fmt::format("UPDATE trips SET latitude = 1 WHERE id IN (SELECT id FROM trips WHERE "
                                     "vehicle_id > {0} ORDER BY id LIMIT 7); DELETE FROM trips WHERE id IN "
                                     "(SELECT id FROM trips WHERE vehicle_id > {0} ORDER BY id DESC LIMIT 5)",
                                     kBase))
                  .ok());
  std::tie(rc, line) = verify_newest();
  EXPECT_EQ(rc, 0) << line;
  EXPECT_NE(line.find("= 2988 source rows of its range + 12 changed or deleted since"), std::string::npos)
      << line;

  const RunManifest m = newest();
  const size_t index = first_trips_object(m);
  ASSERT_LT(index, m.objects.size());
  const auto lines = object_lines(m.objects[index].key);
  ASSERT_GT(lines.size(), 10u);
  const std::string doubled_id = lines[3].substr(6, lines[3].find(',') - 6);

  // An id twice.
  auto doubled = lines;
  doubled.push_back(lines[3]);
  ASSERT_NO_FATAL_FAILURE(rewrite(m, index, doubled));
  std::tie(rc, line) = verify_newest();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(line.rfind("FAIL", 0), 0u) << line;
  EXPECT_NE(line.find("ids twice: " + doubled_id), std::string::npos) << line;

  // A row of the run's range missing (the first row of the object is one no update touched).
  auto gap = lines;
  gap.erase(gap.begin() + 8);
  ASSERT_NO_FATAL_FAILURE(rewrite(m, index, gap));
  std::tie(rc, line) = verify_newest();
  EXPECT_EQ(line.rfind("FAIL", 0), 0u) << line;
  EXPECT_NE(line.find("1 source rows of its range in none of its objects"), std::string::npos) << line;

  // An id the source never had.
  auto extra = lines;
  extra.push_back(with_id(lines[9], 987654321));
  ASSERT_NO_FATAL_FAILURE(rewrite(m, index, extra));
  std::tie(rc, line) = verify_newest();
  EXPECT_EQ(line.rfind("FAIL", 0), 0u) << line;
  EXPECT_NE(line.find("1 ids the source never had at that version, e.g. 987654321"), std::string::npos)
      << line;

  // Put back as exported: the stage passes again.
  ASSERT_NO_FATAL_FAILURE(rewrite(m, index, lines));
  std::tie(rc, line) = verify_newest();
  EXPECT_EQ(line.rfind("PASS", 0), 0u) << line;
}

// --scope newest-run (every scheduler run): only what the last export added, found from the manifest head,
// and it still fails on a loaded object that differs from that run's manifest.
TEST_F(VerifyTest, TheNewestRunScopeChecksOnlyTheLastExport) {
  insert_trips(2000, 1);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  insert_trips(500, 100);
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  const std::string out = fmt::format("/tmp/fleetpipe-verify-scope-{}.out", getpid());
  const auto run = [&] {
    std::remove(out.c_str());
    const int rc = integration::wait_exit(integration::spawn_logged(
        {bin(), "verify", "--prefix", prefix_, "--scope", "newest-run"}, out.c_str(), kLog));
    std::ifstream in(out);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return std::pair{rc, lines};
  };
  auto [rc, lines] = run();
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(lines.size(), 6u) << "two stages for each of three tables";
  for (const auto& l : lines) {
    EXPECT_NE(l.find("(newest run)"), std::string::npos) << l;
    EXPECT_EQ(l.rfind("PASS", 0), 0u) << l;
  }
  bool counted = false;
  for (const auto& l : lines)
    counted =
        counted || (l.find("trips") != std::string::npos &&
                    l.find("500 rows in its objects = 500 source rows of its range") != std::string::npos);
  EXPECT_TRUE(counted) << "the newest run's 500 rows, not the 2500 of the history";

  // The warehouse recorded another checksum for one of the newest run's objects.
  const RunManifest m = newest();
  const size_t index = first_trips_object(m);
  ASSERT_LT(index, m.objects.size());
  ASSERT_TRUE(
      dw_->query("UPDATE raw.load_manifest SET sha256 = 'x' WHERE object_key = $1", m.objects[index].key)
          .ok());
  std::tie(rc, lines) = run();
  EXPECT_EQ(rc, 1);
  bool failed = false;
  for (const auto& l : lines)
    failed = failed || (l.rfind("FAIL bucket->warehouse (newest run)", 0) == 0 &&
                        l.find("1 differing") != std::string::npos);
  EXPECT_TRUE(failed) << "no failing bucket->warehouse (newest run) line";
}

// The whole-history check keeps per-day checksums in the warehouse and reads again only the days that can
// have changed since (load/verify_days.h): none when nothing changed, the days an export and load touched,
// and the day of a change made to the warehouse alone, by hand (found, with its id, until repaired).
TEST_F(VerifyTest, TheWholeHistoryCheckReadsOnlyTheDaysThatChanged) {
  constexpr const char* kDays = "source->warehouse";
  insert_trips(3000, 1);  // 2024-04-15 to 2024-04-17
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  auto [rc, line] = verify_trips(kDays);
  EXPECT_EQ(rc, 0) << line;
  EXPECT_NE(line.find("3 days (all read), source rows 3000, warehouse rows 3000, checksums equal"),
            std::string::npos)
      << line;

  std::tie(rc, line) = verify_trips(kDays);
  EXPECT_EQ(rc, 0) << line;
  EXPECT_NE(line.find("3 days (0 read, the rest as checked at "), std::string::npos) << line;
  EXPECT_NE(line.find("source rows 3000, warehouse rows 3000, checksums equal"), std::string::npos) << line;

  // An update on the first day and a row on a fourth: those two days are read.
  const int64_t first = scalar(*web_, fmt::format("SELECT min(id) FROM trips WHERE vehicle_id > {}", kBase));
  ASSERT_TRUE(
      web_->exec(
              fmt::format("UPDATE trips SET latitude = 10 WHERE id = {0};"
                          "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                          "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                          "fuel_remaining_gallon, color) VALUES ({1} + 1, 9999, 1, '2024-04-20 12:00', 40, "
                          "-73, 15, 0, 50, 7.5, 'red')",
                          first, kBase))
          .ok());
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  std::tie(rc, line) = verify_trips(kDays);
  EXPECT_EQ(rc, 0) << line;
  EXPECT_NE(line.find("4 days (2 read, "), std::string::npos) << line;
  EXPECT_NE(line.find("source rows 3001, warehouse rows 3001, checksums equal"), std::string::npos) << line;

  // A row changed in the warehouse alone, by hand (no _load_xid of its own): the raw table's trigger logs
  // the day, which is read and its id named; it stays a failure until repaired.
  const int64_t second_day =
      scalar(*web_, fmt::format("SELECT min(id) FROM trips WHERE vehicle_id > {} AND measurement_time >= "
                                "'2024-04-16' AND measurement_time < '2024-04-17'",
                                kBase));
  const auto change = [&](const std::string& sql) { ASSERT_TRUE(dw_->exec(sql).ok()) << sql; };
  ASSERT_NO_FATAL_FAILURE(
      change(fmt::format("UPDATE raw.trips SET latitude = latitude + 1 WHERE id = {}", second_day)));
  for (int i = 0; i < 2; ++i) {
    std::tie(rc, line) = verify_trips(kDays);
    EXPECT_EQ(rc, 1) << line;
    EXPECT_NE(line.find("(1 read, "), std::string::npos) << line;
    EXPECT_NE(
        line.find(fmt::format("1 days differ: 2024-04-16 (source 1000 rows, warehouse 1000 rows: ids {} "
                              "differs)",
                              second_day)),
        std::string::npos)
        << line;
  }
  ASSERT_NO_FATAL_FAILURE(
      change(fmt::format("UPDATE raw.trips SET latitude = latitude - 1 WHERE id = {}", second_day)));
  std::tie(rc, line) = verify_trips(kDays);
  EXPECT_EQ(rc, 0) << line;
  EXPECT_NE(line.find("(1 read, "), std::string::npos) << line;

  // A row deleted from the warehouse by hand: its day is read.
  ASSERT_NO_FATAL_FAILURE(change(fmt::format("DELETE FROM raw.trips WHERE id = {}", first)));
  std::tie(rc, line) = verify_trips(kDays);
  EXPECT_EQ(rc, 1) << line;
  EXPECT_NE(
      line.find(fmt::format("2024-04-15 (source 1000 rows, warehouse 999 rows: ids {} missing)", first)),
      std::string::npos)
      << line;

  // Every day read again on request: the same answer, from the whole history.
  std::tie(rc, line) = verify_trips(kDays, {"--reread-all-days"});
  EXPECT_EQ(rc, 1) << line;
  EXPECT_NE(line.find("4 days (all read)"), std::string::npos) << line;
  EXPECT_NE(line.find(fmt::format("ids {} missing", first)), std::string::npos) << line;
}

}  // namespace
}  // namespace fp::batch
