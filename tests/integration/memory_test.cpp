// The memory bounds the docs promise, each checked on the real `build/fleetpipe` child by its peak RSS
// (VmHWM) in a situation that would grow memory without the bound:
// - generate: the sink stalls (its stdout is a pipe nobody reads) while the source could produce millions of
//   rows; the queue of two batches between reader and writer must hold the reader back;
// - export: 600 000 rows in objects of 50 000; rows stream from COPY into one object at a time, so the peak
//   follows the object size, not the table;
// - realtime: a viewer that never reads while a million changes flow; past 4 MB behind its frames are
//   dropped (and it is resynced later), so the service's memory does not follow the stream.
// Each has a database, state directory and topic of its own (integration/scratch_db.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/http/client.h"
#include "common/kafka/admin.h"
#include "common/pg/connection.h"
#include "integration/batch_lane_fixture.h"
#include "integration/scratch_db.h"
#include "integration/test_support.h"

extern char** environ;

namespace fp::integration {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLog = "/tmp/fleetpipe-memory-test.log";

// A value of the service's /metrics (the first sample of `name`), -1 when absent.
double metric(int port, const std::string& name) {
  http::Request r;
  r.url = fmt::format("http://127.0.0.1:{}/metrics", port);
  r.timeout = 5s;
  auto resp = http::perform(r);
  if (!resp || resp->status != 200) return -1;
  std::smatch m;
  if (!std::regex_search(resp->body, m, std::regex("\\n" + name + "(\\{[^}]*\\})? ([0-9.e+-]+)"))) return -1;
  return std::stod(m[2].str());
}

class MemoryBound : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    ASSERT_NO_FATAL_FAILURE(scratch_.create(*cfg, "memory", /*own_state_dir=*/true));
    cfg_ = scratch_.apply(*cfg);
    auto w = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(w.ok()) << w.error().message;
    web_.emplace(std::move(*w));
  }
  void TearDown() override {
    topics_.reset();
    web_.reset();
    scratch_.release();
  }

  std::string make_topic() {
    if (!topics_) topics_ = std::make_unique<ScratchTopics>(cfg_.kafka_bootstrap, "fp_it_mem");
    return topics_->make();
  }

  ScratchStack scratch_;
  Config cfg_;
  std::optional<pg::Connection> web_;
  std::unique_ptr<ScratchTopics> topics_;
};

TEST_F(MemoryBound, TheGeneratorsQueueHoldsTheReaderBackWhileTheSinkStalls) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::vector<std::string> args = {
      "build/fleetpipe", "generate",     "--simulate", "--vehicles", "50", "--count", "20000000",
      "--bulk",          "--batch-size", "20000",      "--csv-out",  "-",  "--seed",  "3"};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addopen(&fa, 2, kLog, O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  // The writer is stuck on a full pipe from its first batch on; give the reader 5 s to run ahead (the
  // simulator makes several hundred thousand rows a second: gigabytes, unbounded).
  std::this_thread::sleep_for(5s);
  const long peak = peak_rss_kb(pid);
  char buf[4096];
  EXPECT_GT(read(fds[0], buf, sizeof buf), 0) << "the generator wrote nothing";
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(fds[0]);
  std::printf("[ generate ] peak RSS with a stalled sink: %ld kB\n", peak);
  RecordProperty("generate_peak_rss_kb", static_cast<int>(peak));
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, 80 * 1024) << "the queue did not hold the reader back";
}

TEST_F(MemoryBound, ExportStreamsRowsIntoOneObjectAtATime) {
  constexpr int kRows = 600000;
  ASSERT_TRUE(web_->exec("INSERT INTO drivers (id, name, license_number) VALUES (1, 'D', 'MEM-1');"
                         "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                         "VALUES (1, 1, 'M', 'M', 15, 'blue')")
                  .ok());
  ASSERT_TRUE(
      web_->exec(fmt::format("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, "
                             "measurement_time, latitude, longitude, fuel_capacity, distance_traveled, "
                             "fuel_remaining_percent, fuel_remaining_gallon, color) "
                             "SELECT 1, 1 + g / 1000, 1 + g % 1000, timestamp '2024-04-15' + g * interval "
                             "'1 second', 40 + (g % 1000) / 1000.0, -73 - (g % 777) / 777.0, 15, "
                             "g * 0.001, 50, 7.5, 'lightgoldenrodyellow' "
                             "FROM generate_series(0, {} - 1) g",
                             kRows))
          .ok())
      << "insert failed";
  const std::string prefix = fmt::format("test-memory-{}-{}/", getpid(), std::random_device{}());
  const pid_t pid = spawn_logged(
      {"build/fleetpipe", "export", "--prefix", prefix, "--max-rows-per-object", "50000"}, "/dev/null", kLog);
  ASSERT_GT(pid, 0);
  const auto [rc, peak] = wait_exit_with_peak_rss(pid);
  ASSERT_EQ(rc, 0) << "see " << kLog;
  s3::Client s3(cfg_.s3);
  int64_t bytes = 0;
  auto objs = s3.list_all(prefix);
  ASSERT_TRUE(objs.ok());
  for (const auto& o : *objs) bytes += o.size;
  for (const auto& o : *objs) (void)s3.delete_object(o.key);
  std::printf("[ export ] %d rows, %zu objects, %ld kB in the bucket: peak RSS %ld kB\n", kRows, objs->size(),
              static_cast<long>(bytes / 1024), peak);
  RecordProperty("export_peak_rss_kb", static_cast<int>(peak));
  // About 200 bytes a row as JSON: the table alone would be over 100 MB in memory.
  EXPECT_LT(peak, 60 * 1024) << "export holds more than one object's rows";
}

// Opens /events and never reads: with a small receive buffer the server's socket fills at once.
int stuck_viewer(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  const std::string req = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(MemoryBound, ARealtimeViewerThatNeverReadsCostsAtMostItsQueue) {
  const std::string topic = make_topic();
  const int port = free_loopback_port();
  ASSERT_GT(port, 0);
  const pid_t rt = spawn_logged({"build/fleetpipe", "realtime", "--source", "direct", "--topic", topic,
                                 "--group", topic + "_rt", "--port", std::to_string(port)},
                                kLog, kLog);
  ASSERT_GT(rt, 0);
  for (int i = 0; i < 300 && metric(port, "fp_realtime_viewers") < 0; ++i) std::this_thread::sleep_for(100ms);
  const int viewer = stuck_viewer(port);
  ASSERT_GE(viewer, 0);
  for (int i = 0; i < 100 && metric(port, "fp_realtime_viewers") < 1; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(metric(port, "fp_realtime_viewers"), 1);

  constexpr int kRows = 1000000;
  const pid_t gen = spawn_logged({"build/fleetpipe", "generate", "--simulate", "--vehicles", "50", "--count",
                                  std::to_string(kRows), "--bulk", "--sink", "kafka", "--topic", topic},
                                 "/dev/null", kLog);
  ASSERT_EQ(wait_exit(gen), 0) << "see " << kLog;
  for (int i = 0; i < 1200 && metric(port, "fp_realtime_events_total") < kRows; ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_GE(metric(port, "fp_realtime_events_total"), kRows) << "the service did not consume the stream";
  const long peak = peak_rss_kb(rt);
  const double resyncs = metric(port, "fp_realtime_viewer_resyncs_total");
  close(viewer);
  kill(rt, SIGTERM);
  EXPECT_EQ(wait_exit(rt), 0);
  std::printf("[ realtime ] %d changes past a viewer that never reads: peak RSS %ld kB, %g resyncs\n", kRows,
              peak, resyncs);
  RecordProperty("realtime_peak_rss_kb", static_cast<int>(peak));
  EXPECT_GE(resyncs, 1) << "the stuck viewer's queue was never cut";
  EXPECT_LT(peak, 70 * 1024) << "the stuck viewer's frames were kept";
}

}  // namespace
}  // namespace fp::integration
