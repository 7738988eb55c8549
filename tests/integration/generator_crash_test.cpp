// `fleetpipe generate` when something fails: kill -9 into both sinks (commit only after delivery, at least
// once on the topic, exactly once in Postgres after --resume), an unreachable or refusing broker (exit 1,
// nothing committed, checkpoint unchanged), SIGINT/SIGTERM (the batch in hand committed, exit 130).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integration/generator_fixture.h"

namespace fp::integration {
namespace {

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

  const int dead_port = free_loopback_port();  // nothing listens there
  ASSERT_GT(dead_port, 0);
  const auto started = std::chrono::steady_clock::now();
  auto dead = run(fmt::format("{} --resume --kafka-timeout-ms 3000", args),
                  fmt::format("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{}", dead_port));
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

}  // namespace
}  // namespace fp::integration
