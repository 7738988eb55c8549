// `fleetpipe generate` end to end against the running stack: exact row counts in Postgres and on a topic
// after a bulk run, the seed's JSON on the topic, rejected rows reported and absent, --strict, --resume
// after kill -9 (Postgres alone, and both sinks: commit only after delivery, at least once on the topic),
// an unreachable or refusing broker (nothing committed), SIGINT/SIGTERM, and real-time pacing. Each test has
// a webapp database, a vehicle-id range and topics of its own.
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

namespace fp {
namespace {

using namespace std::chrono_literals;

struct Run {
  int exit_code = -1;
  std::string out, err;
  nlohmann::json summary;  // the last stdout line, when it is JSON
};

std::string tmp_path(const std::string& name) {
  return fmt::format("/tmp/fp_gen_it_{}_{}", getpid(), name);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `fleetpipe generate args`, with `env` (NAME=value ...) in its environment.
Run run(const std::string& args, const std::string& env = "") {
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
    if (admin_) {
      for (const auto& t : topics_) EXPECT_TRUE(admin_->delete_topic(t).ok());
    }
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
    if (!admin_) {
      kafka::AdminOptions o;
      o.bootstrap = cfg_.kafka_bootstrap;
      auto a = kafka::Admin::create(o);
      EXPECT_TRUE(a.ok()) << a.error().message;
      admin_ = std::move(*a);
    }
    std::string t = fmt::format("fp_it_gen_{}_{}", getpid(), topics_.size());
    auto c = admin_->create_topic(kafka::TopicSpec{t, 3, 1, std::move(configs)});
    EXPECT_TRUE(c.ok()) << c.error().message;
    topics_.push_back(t);
    return t;
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

  integration::ScratchStack scratch_;
  Config cfg_;
  std::unique_ptr<pg::Connection> conn_;
  std::unique_ptr<kafka::Admin> admin_;
  std::vector<std::string> topics_;
  int first_ = 0;
};

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
TEST_F(Generator, BothSinksKill9ThenResumeLeavesEveryRowInPostgresOnceAndOnTheTopic) {
  const uint64_t total = 150000;
  const std::string topic = make_topic();
  const std::string args = fmt::format(
      "--simulate --vehicles 50 --first-vehicle-id {} --seed 11 --count {} --bulk --batch-size 5000 "
      "--sink postgres,kafka --topic {} --run-id {}both",
      first_, total, topic, run_prefix());
  const pid_t pid = start_until_committed(args, 20000);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "ended before the kill landed";
  const int64_t committed = settled_count();
  ASSERT_LT(committed, static_cast<int64_t>(total)) << "finished before the kill; raise the count";

  // Commit only after delivery: what Postgres holds at the kill is on the topic.
  const auto in_pg = keys_in_postgres();
  ASSERT_EQ(static_cast<int64_t>(in_pg.size()), committed);
  auto at_kill = keys_on_topic(consume_all(topic, in_pg.size(), "at_kill"));
  size_t missing = 0;
  for (const auto& k : in_pg) missing += at_kill.count(k) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "rows committed to Postgres before Kafka confirmed them";

  auto r = run(args + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.summary["resumed_from"].get<int64_t>(), committed);
  EXPECT_EQ(r.summary["postgres_duplicates"], 0);
  EXPECT_EQ(count(), static_cast<int64_t>(total));

  const auto all_pg = keys_in_postgres();
  const auto msgs = consume_all(topic, total, "after_resume");
  const auto on_topic = keys_on_topic(msgs);
  missing = 0;
  for (const auto& k : all_pg) missing += on_topic.count(k) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "rows in Postgres never delivered to the topic";
  size_t strays = 0;
  for (const auto& [k, n] : on_topic) strays += all_pg.count(k) ? 0 : 1;
  EXPECT_EQ(strays, 0u) << "messages on the topic for rows that are not in Postgres";
  const size_t duplicates = msgs.size() - on_topic.size();
  // At least once, not exactly once: at most the batches in flight at the kill arrive twice.
  std::printf("[ both sinks ] %zu messages for %zu rows: %zu duplicates (rows in flight at the kill)\n",
              msgs.size(), on_topic.size(), duplicates);
  RecordProperty("topic_duplicates", static_cast<int>(duplicates));
  EXPECT_LE(duplicates, total - static_cast<uint64_t>(committed));
}

// Kafka unavailable: a broker that cannot be reached (the generator gives up looking up the topic), then a
// topic whose writes the broker refuses (max.message.bytes below one row: every delivery report is an
// error). Each time the generator exits 1, commits nothing to Postgres and
// leaves the checkpoint where it was.
TEST_F(Generator, DeadBrokerCommitsNothingAndLeavesTheCheckpoint) {
  const std::string topic = make_topic();
  const std::string run_id = run_prefix() + "deadbroker";
  const std::string args = fmt::format(
      "--simulate --vehicles 50 --first-vehicle-id {} --seed 13 --count 400000 --bulk --batch-size 5000 "
      "--sink postgres,kafka --topic {} --run-id {}",
      first_, topic, run_id);
  // A checkpoint part-way: a run stopped by SIGTERM after some batches.
  const pid_t pid = start_until_committed(args, 10000);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130);
  auto checkpoint = [&] {
    auto cp = conn_->query("SELECT rows_delivered FROM generator_checkpoints WHERE run_id = $1", run_id);
    EXPECT_TRUE(cp.ok() && cp->size() == 1);
    return cp && cp->size() == 1 ? *cp->get<int64_t>(0, 0) : -1;
  };
  const int64_t rows = count(), at = checkpoint();
  ASSERT_EQ(rows, at);

  // A port nothing listens on: bind one, then close it.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  close(fd);
  const auto started = std::chrono::steady_clock::now();
  auto dead = run(fmt::format("{} --resume --kafka-timeout-ms 3000", args),
                  fmt::format("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{}", ntohs(sa.sin_port)));
  EXPECT_EQ(dead.exit_code, 1) << dead.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s) << "the delivery timeout was not honoured";
  EXPECT_NE(dead.err.find("error"), std::string::npos) << dead.err;
  EXPECT_EQ(count(), rows) << "rows committed without a broker";
  EXPECT_EQ(checkpoint(), at) << "the checkpoint moved";

  const std::string refusing = make_topic({{"max.message.bytes", "64"}});
  auto refused =
      run(fmt::format("--simulate --vehicles 50 --first-vehicle-id {} --seed 13 --count 400000 "
                      "--bulk --batch-size 5000 --sink postgres,kafka --topic {} --run-id {} "
                      "--resume --kafka-timeout-ms 3000",
                      first_, refusing, run_id));
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("deliver"), std::string::npos) << refused.err;
  EXPECT_EQ(count(), rows) << "rows committed although their delivery reports failed";
  EXPECT_EQ(checkpoint(), at) << "the checkpoint moved";
}

// SIGINT and SIGTERM mid-run: the generator commits the batch in hand, exits 130, and its checkpoint says
// exactly how many rows are in the database; --resume then delivers the rest, none twice.
TEST_F(Generator, SigintAndSigtermCommitTheBatchInHandAndExit130) {
  const uint64_t total = 400000;
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    // Vehicles of their own per signal, so the counts below are this run's alone.
    const int first = first_ + (sig == SIGINT ? 0 : 50);
    const std::string run_id = fmt::format("{}signal{}", run_prefix(), sig);
    const std::string args = fmt::format(
        "--simulate --vehicles 50 --first-vehicle-id {} --seed 9 --count {} --bulk --batch-size 5000 "
        "--sink postgres --run-id {}",
        first, total, run_id);
    const std::string ours = fmt::format("vehicle_id BETWEEN {} AND {}", first, first + 49);
    const pid_t pid = start_until_committed(args, 20000, " AND " + ours);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, sig), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "ended by a signal: the handler did not run";
    EXPECT_EQ(WEXITSTATUS(status), 130);
    const int64_t in_db = count(" AND " + ours);
    auto cp =
        conn_->query("SELECT rows_delivered, finished FROM generator_checkpoints WHERE run_id = $1", run_id);
    ASSERT_TRUE(cp.ok() && cp->size() == 1);
    EXPECT_EQ(*cp->get<int64_t>(0, 0), in_db) << "the checkpoint is exactly the committed rows";
    EXPECT_FALSE(*cp->get<bool>(0, 1));
    ASSERT_LT(in_db, static_cast<int64_t>(total)) << "finished before the signal; raise the count";
    auto r = run(args + " --resume");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.summary["postgres_duplicates"], 0);
    EXPECT_EQ(count(" AND " + ours), static_cast<int64_t>(total));
  }
}

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
}  // namespace fp
