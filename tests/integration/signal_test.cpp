// SIGINT and SIGTERM against every long-running service, each started as the real `build/fleetpipe` child
// with databases and a state directory of its own (integration/scratch_db.h):
// - webapp, console, realtime and an idle scheduler stop within the HTTP server's drain deadline with exit
//   0, their port closed and no process of theirs left behind;
// - the web app under a stream of submissions: every submission it acknowledged is in the database and
//   nothing it did not acknowledge is (requests in hand finish, half-received ones are dropped whole);
// - the scheduler while `dbt build` runs: dbt's whole process group is killed, the run is recorded failed
//   with the steps after dbt skipped, and the command exits 130 (interrupted).
// "Left behind" is checked through the environment: the test gives each child a marker variable that every
// process it starts inherits, and looks in /proc for any process still carrying it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/http/client.h"
#include "common/pg/connection.h"
#include "integration/batch_lane_fixture.h"
#include "integration/scratch_db.h"
#include "integration/test_support.h"

namespace fp::integration {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLog = "/tmp/fleetpipe-signal-test.log";
constexpr const char* kMarkerName = "FLEETPIPE_SIGNAL_TEST";

// Pids of the live processes whose environment holds `marker` (NAME=value). A zombie's environment cannot
// be read: it is already gone in every sense that matters here.
std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(entry.path() / "environ", std::ios::binary);
    const std::string env((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (size_t at = 0; at < env.size();) {
      const size_t end = std::min(env.find('\0', at), env.size());
      if (env.compare(at, end - at, marker) == 0) {
        out.push_back(std::stoi(name));
        break;
      }
      at = end + 1;
    }
  }
  return out;
}

// The status of GET url, 0 when nothing answered.
long get_status(const std::string& url) {
  http::Request r;
  r.url = url;
  r.timeout = 2s;
  auto resp = http::perform(r);
  return resp ? resp->status : 0;
}

class SignalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    ASSERT_NO_FATAL_FAILURE(scratch_.create(*cfg, "signal", /*own_state_dir=*/true));
    cfg_ = scratch_.apply(*cfg);
    auto w = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(w.ok()) << w.error().message;
    web_.emplace(std::move(*w));
    auto d = pg::Connection::connect(cfg_.warehouse);
    ASSERT_TRUE(d.ok()) << d.error().message;
    dw_.emplace(std::move(*d));
    marker_ = fmt::format("{}={}-{}", kMarkerName, getpid(), std::random_device{}());
    setenv(kMarkerName, marker_.substr(marker_.find('=') + 1).c_str(), 1);
  }
  void TearDown() override {
    unsetenv(kMarkerName);
    for (pid_t p : processes_with(marker_)) kill(p, SIGKILL);  // after a failure: leave nothing running
    web_.reset();
    dw_.reset();
    scratch_.release();
  }

  pid_t start(std::vector<std::string> args) {
    args.insert(args.begin(), "build/fleetpipe");
    return spawn_logged(args, kLog, kLog);
  }

  // Waits up to `deadline` for GET /healthz on the port to answer at all (a service that is up but not yet
  // healthy, e.g. realtime before its first poll, still answers).
  static bool wait_answering(int port, std::chrono::seconds deadline = 60s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (get_status(fmt::format("http://127.0.0.1:{}/healthz", port)) != 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // Sends `sig` and waits up to 30 s for the exit: the exit code, 128 + the signal that ended it, or -1
  // when it did not end (then it is killed).
  static int stop_with(pid_t pid, int sig) {
    if (kill(pid, sig) != 0) return -1;
    const auto until = std::chrono::steady_clock::now() + 30s;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      const pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      std::this_thread::sleep_for(50ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }

  int64_t scalar(pg::Connection& c, const std::string& sql) {
    auto r = c.query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message) << "\n" << sql;
    if (!r || r->empty()) return -1;
    auto v = r->get<int64_t>(0, 0);
    return v ? *v : -1;
  }

  ScratchStack scratch_;
  Config cfg_;
  std::optional<pg::Connection> web_, dw_;
  std::string marker_;
};

const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

TEST_F(SignalTest, ServicesStopWithExit0AndLeaveNothingBehind) {
  const std::string group = fmt::format("fp_it_signal_{}", getpid());
  for (int sig : {SIGINT, SIGTERM}) {
    for (const std::string service : {"webapp", "console", "realtime", "scheduler"}) {
      SCOPED_TRACE(service + " " + signal_name(sig));
      const int port = free_loopback_port();
      ASSERT_GT(port, 0);
      std::vector<std::string> args = {service};
      if (service == "webapp" || service == "realtime") {
        args.insert(args.end(), {"--port", std::to_string(port)});
      } else {
        args.insert(args.end(), {"--listen", fmt::format("127.0.0.1:{}", port)});
      }
      if (service == "realtime") args.insert(args.end(), {"--group", group});
      // Idle: the next run a year away.
      if (service == "scheduler") args.insert(args.end(), {"--cron", "0 0 1 1 *", "--no-docs"});
      const pid_t pid = start(args);
      ASSERT_GT(pid, 0);
      ASSERT_TRUE(wait_answering(port)) << "see " << kLog;
      // The probe sees the live service: its emptiness afterwards means something.
      ASSERT_EQ(processes_with(marker_), std::vector<pid_t>{pid});
      const auto sent = std::chrono::steady_clock::now();
      EXPECT_EQ(stop_with(pid, sig), 0) << "see " << kLog;
      EXPECT_LT(std::chrono::steady_clock::now() - sent, 15s) << "slower than the drain deadline";
      EXPECT_EQ(get_status(fmt::format("http://127.0.0.1:{}/healthz", port)), 0) << "still answering";
      EXPECT_TRUE(processes_with(marker_).empty()) << "a process was left behind";
    }
  }
}

TEST_F(SignalTest, TheWebAppStopsAnsweringOnlyWhatItCommitted) {
  ASSERT_TRUE(web_->exec("INSERT INTO drivers (id, name, license_number) VALUES (1, 'Ada', 'SIG-1');"
                         "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                         "VALUES (4, 1, 'Ford', 'Transit', 30, 'yellow')")
                  .ok());
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(signal_name(sig));
    const int port = free_loopback_port();
    const pid_t pid = start({"webapp", "--port", std::to_string(port), "--threads", "4"});
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_answering(port)) << "see " << kLog;
    // Two clients submit trips one after another until the server stops answering.
    std::atomic<int> acknowledged{0}, sent{0};
    auto client = [&](int trip) {
      for (int seq = 1; seq < 100000; ++seq) {
        http::Request r;
        r.method = "POST";
        r.url = fmt::format("http://127.0.0.1:{}/api/trips", port);
        r.headers = {{"Content-Type", "application/json"}};
        r.body = nlohmann::json{{"vehicle_id", 4},
                                {"trip_id", trip},
                                {"measurement_sequence", seq},
                                {"measurement_time", "2024-04-16 06:50:03"},
                                {"latitude", 40.5},
                                {"longitude", -73.5},
                                {"fuel_capacity", 30},
                                {"distance_traveled", seq},
                                {"fuel_remaining_percent", 50},
                                {"fuel_remaining_gallon", 15},
                                {"color", "yellow"}}
                     .dump();
        r.timeout = 10s;
        ++sent;
        auto resp = http::perform(r);
        if (!resp) return;  // refused or reset: the server is going
        if (resp->status == 201)
          ++acknowledged;
        else if (resp->status != 503)
          return;
      }
    };
    const int trip = sig;  // the two rounds write different trips
    std::thread a(client, trip * 10), b(client, trip * 10 + 1);
    while (acknowledged < 50) std::this_thread::sleep_for(5ms);
    EXPECT_EQ(stop_with(pid, sig), 0) << "see " << kLog;
    a.join();
    b.join();
    const int64_t rows = scalar(
        *web_, fmt::format("SELECT count(*) FROM trips WHERE trip_id IN ({}, {})", trip * 10, trip * 10 + 1));
    EXPECT_EQ(rows, acknowledged.load()) << sent.load() << " sent";
    EXPECT_TRUE(processes_with(marker_).empty()) << "a process was left behind";
  }
}

// Three vehicles with a trip each: enough for every dbt model to have rows.
void insert_trips(pg::Connection& web) {
  ASSERT_TRUE(web.exec("INSERT INTO drivers (id, name, license_number) SELECT g, 'D' || g, 'SIG-' || g "
                       "FROM generate_series(1, 3) g;"
                       "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                       "SELECT g, g, 'Make', 'Model', 20, 'blue' FROM generate_series(1, 3) g;"
                       "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                       "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                       "fuel_remaining_gallon, color) "
                       "SELECT v, 1, s, timestamp '2024-04-15 08:00' + s * interval '5 minutes', 40 + s / "
                       "100.0, -73, 20, s * 5.0, 90 - s, 18 - s * 0.2, 'blue' "
                       "FROM generate_series(1, 3) v, generate_series(1, 20) s")
                  .ok());
}

TEST_F(SignalTest, TheSchedulerKillsDbtRecordsTheRunFailedAndExits130) {
  ASSERT_NO_FATAL_FAILURE(insert_trips(*web_));
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(signal_name(sig));
    const int port = free_loopback_port();
    const std::string prefix = fmt::format("test-signal-{}-{}/", getpid(), sig);
    const pid_t pid = start({"scheduler", "--once", "--no-docs", "--prefix", prefix, "--listen",
                             fmt::format("127.0.0.1:{}", port)});
    ASSERT_GT(pid, 0);
    // Wait for dbt: the step recorded running and a process of the scheduler's besides itself.
    bool dbt_running = false;
    for (int i = 0; i < 1200 && !dbt_running; ++i) {
      std::this_thread::sleep_for(100ms);
      dbt_running = scalar(*dw_,
                           "SELECT count(*) FROM ops.pipeline_steps WHERE step = 'dbt_build' AND outcome = "
                           "'running'") == 1 &&
                    processes_with(marker_).size() > 1;
    }
    ASSERT_TRUE(dbt_running) << "dbt never started; see " << kLog;
    const auto sent = std::chrono::steady_clock::now();
    EXPECT_EQ(stop_with(pid, sig), 130) << "see " << kLog;
    // dbt's group gets SIGTERM (SIGKILL after a 10 s grace) and dies at once: well under a second here. A
    // scheduler that let dbt finish instead took 5.6-7.5 s even on this test's three trips.
    const auto took = std::chrono::steady_clock::now() - sent;
    std::printf("[ scheduler ] %s with dbt running: stopped in %lld ms\n", signal_name(sig),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    EXPECT_LT(took, 4s) << "dbt was not stopped";
    EXPECT_TRUE(processes_with(marker_).empty()) << "dbt (or one of its processes) was left behind";
    const int64_t run = scalar(*dw_, "SELECT max(run_id) FROM ops.pipeline_runs");
    auto outcome = [&](const std::string& what) {
      auto r = dw_->query(what, run);
      EXPECT_TRUE(r.ok() && r->size() == 1) << what;
      if (!r || r->size() != 1) return std::string();
      auto v = r->get<std::string>(0, 0);
      return v ? *v : std::string();
    };
    EXPECT_EQ(outcome("SELECT outcome FROM ops.pipeline_runs WHERE run_id = $1"), "failed");
    const std::string last_attempt =
        "SELECT outcome FROM ops.pipeline_steps WHERE run_id = $1 AND step = '{}' ORDER BY attempt DESC "
        "LIMIT 1";
    EXPECT_EQ(outcome(fmt::format(fmt::runtime(last_attempt), "export")), "success");
    EXPECT_EQ(outcome(fmt::format(fmt::runtime(last_attempt), "load")), "success");
    EXPECT_EQ(outcome(fmt::format(fmt::runtime(last_attempt), "dbt_build")), "failed");
    // verify runs beside dbt_build: it finished before the signal, was cut short by it, or (signal before its
    // first attempt) skipped; it is recorded either way, never left running.
    const std::string verify = outcome(fmt::format(fmt::runtime(last_attempt), "verify"));
    EXPECT_TRUE(verify == "success" || verify == "failed" || verify == "skipped") << verify;
    EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM ops.pipeline_steps WHERE outcome = 'running'"), 0);
  }
}

}  // namespace
}  // namespace fp::integration
