// `fleetpipe generate` end to end against the running stack: exact row counts in Postgres and on a topic
// after a bulk run, the seed's JSON on the topic, rejected rows reported and absent, --strict, --resume
// after kill -9, and real-time pacing. Crashes, signals and broker failures: generator_crash_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integration/generator_fixture.h"

namespace fp::integration {
namespace {

TEST_F(Generator, BulkRunExactCountsInPostgresAndOnTheTopic) {
  const std::string topic = make_topic();
  auto r =
      run(fmt::format("--simulate --vehicles 20 --first-vehicle-id {} --seed 5 --count 12345 --bulk "
                      "--batch-size 5000 --sink postgres,kafka --topic {} --run-id {}bulk",
                      first_, topic, run_prefix()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.summary["rows_delivered"], 12345);
  EXPECT_EQ(r.summary["postgres_inserted"], 12345);
  EXPECT_EQ(r.summary["kafka_delivered"], 12345);
  EXPECT_EQ(count(), 12345);
  auto v = conn_->query(
      "SELECT count(*) FROM vehicles v JOIN drivers d ON d.id = v.driver_id WHERE v.id BETWEEN $1 AND $2",
      first_, first_ + 99);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v->get<int64_t>(0, 0), 20);

  auto msgs = consume_all(topic, 12345);
  ASSERT_EQ(msgs.size(), 12345u);
  for (size_t i = 0; i < msgs.size(); i += 97) {
    const auto& m = msgs[i];
    ASSERT_TRUE(m.value && m.key);
    auto j = nlohmann::json::parse(*m.value);
    ASSERT_EQ(j.size(), 11u);
    for (const char* k : {"vehicle_id", "trip_id", "measurement_sequence"})
      EXPECT_TRUE(j[k].is_number_integer()) << k;
    for (const char* k : {"latitude", "longitude", "fuel_capacity", "distance_traveled",
                          "fuel_remaining_percent", "fuel_remaining_gallon"})
      EXPECT_TRUE(j[k].is_number_float()) << k << " in " << *m.value;
    EXPECT_TRUE(j["color"].is_string());
    EXPECT_EQ(j["measurement_time"].get<std::string>().size(), 19u);
    EXPECT_EQ(*m.key, std::to_string(j["vehicle_id"].get<int>()));
  }
  // A re-run over the same input adds nothing to Postgres.
  auto again =
      run(fmt::format("--simulate --vehicles 20 --first-vehicle-id {} --seed 5 --count 12345 --bulk "
                      "--sink postgres --run-id {}bulk2",
                      first_, run_prefix()));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.summary["postgres_inserted"], 0);
  EXPECT_EQ(again.summary["postgres_duplicates"], 12345);
  EXPECT_EQ(count(), 12345);
}

TEST_F(Generator, RejectedRowsAreReportedAndAbsent) {
  const std::string csv = tmp_path("bad.csv");
  {
    std::ofstream f(csv);
    const int v = first_;
    f << "vehicle_id,trip_id,measurement_sequence,measurement_time,latitude,longitude,fuel_capacity,"
         "distance_traveled,fuel_remaining_percent,fuel_remaining_gallon,color\n";
    f << v << ",1,1,2024-04-15 08:00:00,40.7,-74.0,20,0,100,20,red\n";    // line 2 ok
    f << v << ",1,2,2024-04-15 08:01:00,95.0,-74.0,20,1,99,19.8,red\n";   // 3 latitude
    f << v << ",1,3,2024-04-15 08:02:00,40.7,-74.0,20,2,98\n";            // 4 columns
    f << v << ",1,4,2024-04-15 08:03:00,40.7,-190,20,3,97,19.4,red\n";    // 5 longitude
    f << v << ",1,5,2024-04-15 08:04:00,40.7,-74.0,20,-1,96,19.2,red\n";  // 6 distance
    f << v << ",1,6,2024-04-15 08:05:00,40.7,-74.0,20,5,101,19,red\n";    // 7 percent
    f << v << ",1,7,2024-04-15 08:06:00,40.7,-74.0,20,6,95,21,red\n";     // 8 above capacity
    f << v << ",1,8,2024-04-15 25:07:00,40.7,-74.0,20,7,94,18.8,red\n";   // 9 time
    f << v << ",1,9,2024-04-15 08:08:00,abc,-74.0,20,8,93,18.6,red\n";    // 10 non-number
    f << v << ",1,10,2024-04-15 08:09:00,40.8,-74.1,20,9,92,18.4,red\n";  // 11 ok
  }
  auto strict =
      run(fmt::format("--csv {} --bulk --sink postgres --strict --run-id {}strict", csv, run_prefix()));
  EXPECT_EQ(strict.exit_code, 3) << strict.err;
  EXPECT_EQ(count(), 0) << "--strict wrote rows";

  auto r = run(fmt::format("--csv {} --bulk --sink postgres --run-id {}bad", csv, run_prefix()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.summary["rows_delivered"], 2);
  EXPECT_EQ(r.summary["rows_rejected"], 8);
  for (const char* expect :
       {"line 3: latitude 95 outside [-90, 90]", "line 4: expected 11 columns, found 9",
        "line 5: longitude -190 outside [-180, 180]", "line 6: distance_traveled -1 is negative",
        "line 7: fuel_remaining_percent 101 outside [0, 100]",
        "line 8: fuel_remaining_gallon 21 above fuel_capacity 20",
        "line 9: measurement_time: unparseable time '2024-04-15 25:07:00'",
        "line 10: latitude 'abc' is not a number"}) {
    EXPECT_NE(r.err.find(expect), std::string::npos) << expect << "\n" << r.err;
    EXPECT_NE(strict.err.find(expect), std::string::npos) << expect << "\n" << strict.err;
  }
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count("AND measurement_sequence IN (1, 10)"), 2);
  std::remove(csv.c_str());
}

TEST_F(Generator, ResumeAfterKill9DeliversEveryRowExactlyOnce) {
  const uint64_t total = 400000;
  const std::string args = fmt::format(
      "--simulate --vehicles 50 --first-vehicle-id {} --seed 9 --count {} --bulk "
      "--batch-size 5000 --sink postgres --run-id {}resume",
      first_, total, run_prefix());
  // Kill it once some batches are committed, well before the end.
  const pid_t pid = start_until_committed(args, 20000);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "ended before the kill landed";
  const int64_t before = settled_count();
  ASSERT_GT(before, 0);
  ASSERT_LT(before, static_cast<int64_t>(total)) << "finished before the kill; raise the count";

  auto r = run(args + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.summary["resumed_from"].get<int64_t>(),
            before);  // the checkpoint is exactly the committed rows
  EXPECT_EQ(r.summary["postgres_duplicates"], 0);
  EXPECT_EQ(r.summary["rows_delivered"].get<int64_t>(), static_cast<int64_t>(total) - before);
  EXPECT_EQ(r.summary["total_delivered"], total);
  EXPECT_EQ(count(), static_cast<int64_t>(total));
}

// kill -9 of a run into both sinks. The writer commits a batch to Postgres only after Kafka reported every
// row of it delivered, so at the kill every row in Postgres is already on the topic; --resume then sends
// the rest: every row in Postgres exactly once, every one of them on the topic at least once (the rows of
// the batch in flight at the kill arrive twice: counted and printed, not hidden), nothing else on it.
TEST_F(Generator, RealTimePacingHoldsItsRate) {
  // 100 rows/s for 30 s, written as CSV to a pipe; the arrival times of the rows measure the pace.
  const double rate = 100;
  const int rows = 3001;
  FILE* p =
      popen(fmt::format("./build/fleetpipe generate --simulate --vehicles 5 --first-vehicle-id {} --count {} "
                        "--rate {} --csv-out - 2>/dev/null",
                        first_, rows, rate)
                .c_str(),
            "r");
  ASSERT_NE(p, nullptr);
  char* line = nullptr;
  size_t cap = 0;
  std::vector<std::chrono::steady_clock::time_point> at;
  while (getline(&line, &cap, p) > 0) at.push_back(std::chrono::steady_clock::now());
  free(line);
  ASSERT_EQ(pclose(p), 0);
  ASSERT_EQ(at.size(), static_cast<size_t>(rows + 1));  // header + rows
  // The window from the first row to the last: 3000 intervals.
  const double secs = std::chrono::duration<double>(at.back() - at[1]).count();
  const double measured = (rows - 1) / secs;
  EXPECT_NEAR(measured, rate, rate * 0.05) << "over " << secs << " s";
  // And no burst: every 5-second slice of the schedule carries 500 rows +- 5 %. The schedule's start is
  // estimated from every row (the median of arrival - index / rate), not from the first row alone: the first
  // batch also waits for the sinks' first round trips, and anchoring on it made a slow first write (0.3 s
  // on a busy machine) look like a burst of the rows that followed it on time.
  std::vector<double> offsets;
  for (size_t i = 1; i < at.size(); ++i)
    offsets.push_back(std::chrono::duration<double>(at[i] - at[1]).count() -
                      static_cast<double>(i - 1) / rate);
  std::nth_element(offsets.begin(), offsets.begin() + offsets.size() / 2, offsets.end());
  const auto schedule_start = at[1] + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(offsets[offsets.size() / 2]));
  for (int s = 0; s + 5 <= 30; s += 5) {
    const auto from = schedule_start + std::chrono::seconds(s), to = from + 5s;
    const auto n = std::count_if(at.begin() + 1, at.end(), [&](auto t) { return t >= from && t < to; });
    EXPECT_NEAR(static_cast<double>(n), 5 * rate, 5 * rate * 0.05) << "slice at " << s << " s";
  }
}

}  // namespace
}  // namespace fp::integration
