// What the `fleetpipe generate` integration tests share: running the real build/fleetpipe generate as a
// child, a webapp database of the test's own (integration/scratch_db.h), a vehicle-id range and topics of
// its own, and readers of what reached Postgres and the topic.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/pg/connection.h"
#include "integration/scratch_db.h"
#include "integration/test_support.h"

namespace fp::integration {

using namespace std::chrono_literals;

struct Run {
  int exit_code = -1;
  std::string out, err;
  nlohmann::json summary;  // the last stdout line, when it is JSON
};

inline std::string tmp_path(const std::string& name) {
  return fmt::format("/tmp/fp_gen_it_{}_{}", getpid(), name);
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `fleetpipe generate args`, with `env` (NAME=value ...) in its environment.
inline Run run(const std::string& args, const std::string& env = "") {
  const std::string out = tmp_path("out"), err = tmp_path("err");
  const int rc =
      std::system(fmt::format("{} ./build/fleetpipe generate {} >{} 2>{}", env, args, out, err).c_str());
  Run r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  auto last = r.out.find_last_of('\n', r.out.size() >= 2 ? r.out.size() - 2 : 0);
  std::string line = r.out.substr(last == std::string::npos ? 0 : last + 1);
  r.summary = nlohmann::json::parse(line, nullptr, false);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

class Generator : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    // A webapp database of its own (the children see it through POSTGRES_DB): a demo's data is not touched.
    ASSERT_NO_FATAL_FAILURE(scratch_.create(*cfg, "gen"));
    cfg_ = scratch_.apply(*cfg);
    auto c = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(c.ok()) << c.error().message;
    conn_ = std::make_unique<pg::Connection>(std::move(*c));
    // A vehicle-id range of our own: 1000 ids from a per-process offset far above the sample data's.
    first_ = 500000 + static_cast<int>(getpid() % 4000) * 100;
    cleanup();
  }
  void TearDown() override {
    topics_.reset();
    conn_.reset();
    scratch_.release();
  }
  void cleanup() {
    const int last = first_ + 99;
    ASSERT_TRUE(conn_->query("DELETE FROM trips WHERE vehicle_id BETWEEN $1 AND $2", first_, last).ok());
    ASSERT_TRUE(
        conn_->query("DELETE FROM trip_latest WHERE vehicle_id BETWEEN $1 AND $2", first_, last).ok());
    ASSERT_TRUE(conn_->query("DELETE FROM vehicles WHERE id BETWEEN $1 AND $2", first_, last).ok());
    ASSERT_TRUE(conn_->query("DELETE FROM drivers WHERE id BETWEEN $1 AND $2", first_, last).ok());
    ASSERT_TRUE(
        conn_->query("DELETE FROM generator_checkpoints WHERE run_id LIKE $1", run_prefix() + "%").ok());
  }
  std::string run_prefix() const { return fmt::format("it-{}-", getpid()); }

  // Starts `fleetpipe generate args` in the background and returns its pid once `rows` rows (count(extra))
  // are committed, or after 30 s; -1 when it cannot be started.
  pid_t start_until_committed(const std::string& args, int64_t rows, const std::string& extra = "") {
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec ./build/fleetpipe generate " + args + " >/dev/null 2>&1").c_str(),
            nullptr);
      _exit(127);
    }
    for (int i = 0; pid > 0 && i < 600 && count(extra) < rows; ++i) std::this_thread::sleep_for(50ms);
    return pid;
  }

  int64_t count(const std::string& extra = "") {
    auto r = conn_->query(
        fmt::format("SELECT count(*), count(DISTINCT (vehicle_id, trip_id, measurement_sequence)) "
                    "FROM trips WHERE vehicle_id BETWEEN $1 AND $2 {}",
                    extra),
        first_, first_ + 99);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return -1;
    EXPECT_EQ(*r->get<int64_t>(0, 0), *r->get<int64_t>(0, 1)) << "duplicates in trips";
    return *r->get<int64_t>(0, 0);
  }

  std::string make_topic(kafka::ConfigMap configs = {}) {
    if (!topics_) topics_ = std::make_unique<ScratchTopics>(cfg_.kafka_bootstrap, "fp_it_gen");
    return topics_->make(std::move(configs));
  }

  // Reads `topic` from its start in a group of its own (`group` names it) until `want` messages arrived and
  // two quiet seconds passed, or 60 s.
  std::vector<kafka::Message> consume_all(const std::string& topic, size_t want,
                                          const std::string& group = "g") {
    kafka::ConsumerOptions o;
    o.bootstrap = cfg_.kafka_bootstrap;
    o.group_id = topic + "_" + group;
    auto c = kafka::Consumer::create(o);
    EXPECT_TRUE(c.ok());
    EXPECT_TRUE((*c)->subscribe({topic}).ok());
    std::vector<kafka::Message> all;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    // Read until `want` arrived, then a little longer to catch any extra.
    auto quiet_until = deadline;
    while (std::chrono::steady_clock::now() < std::min(deadline, quiet_until)) {
      auto b = (*c)->poll(500ms);
      if (!b.ok()) continue;
      for (auto& m : *b) all.push_back(std::move(m));
      if (all.size() >= want && quiet_until == deadline) quiet_until = std::chrono::steady_clock::now() + 2s;
    }
    EXPECT_TRUE((*c)->close().ok());
    return all;
  }

  // The (vehicle, trip, sequence) key of every row of ours in Postgres.
  std::set<std::string> keys_in_postgres() {
    std::set<std::string> keys;
    auto r = conn_->query(
        "SELECT vehicle_id || '/' || trip_id || '/' || measurement_sequence FROM trips "
        "WHERE vehicle_id BETWEEN $1 AND $2",
        first_, first_ + 99);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r) return keys;
    for (int i = 0; i < r->size(); ++i) keys.insert(*r->get<std::string>(i, 0));
    return keys;
  }

  // The same key of every message, with how many times each arrived.
  static std::map<std::string, int> keys_on_topic(const std::vector<kafka::Message>& msgs) {
    std::map<std::string, int> keys;
    for (const auto& m : msgs) {
      auto j = nlohmann::json::parse(m.value.value_or(""), nullptr, false);
      if (j.is_discarded()) {
        ++keys["unparseable"];
        continue;
      }
      ++keys[fmt::format("{}/{}/{}", j.value("vehicle_id", -1), j.value("trip_id", -1),
                         j.value("measurement_sequence", -1))];
    }
    return keys;
  }

  // Waits until the count of our rows stopped changing for half a second: a COMMIT sent just before a kill
  // still completes on the server after the process died.
  int64_t settled_count() {
    int64_t before = count();
    for (int stable = 0, i = 0; stable < 5 && i < 100; ++i) {
      std::this_thread::sleep_for(100ms);
      const int64_t now = count();
      stable = now == before ? stable + 1 : 0;
      before = now;
    }
    return before;
  }

  ScratchStack scratch_;
  Config cfg_;
  std::unique_ptr<pg::Connection> conn_;
  std::unique_ptr<ScratchTopics> topics_;
  int first_ = 0;
};

}  // namespace fp::integration
