// Kafka clients against the running broker (fp::Config::load().kafka_bootstrap): topic administration,
// a 10 000-message round trip with exact count and per-partition order, commit/reopen without redelivery,
// watermarks and lag, regex subscription, and interoperability with kcat in both directions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"

namespace fp::kafka {
namespace {

using namespace std::chrono_literals;

std::string bootstrap() {
  auto cfg = Config::load();
  return cfg.ok() ? cfg->kafka_bootstrap : std::string("localhost:9092");
}

// Unique per run, so reruns and parallel engineers never share topics or groups.
std::string unique(std::string_view what) {
  static const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
  return fmt::format("fp_it_{}_{}_{}", what, getpid(), stamp % 1000000007);
}

class KafkaIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    AdminOptions o;
    o.bootstrap = bootstrap();
    auto a = Admin::create(o);
    ASSERT_TRUE(a.ok()) << a.error().message;
    admin_ = std::move(*a).release();
  }
  static void TearDownTestSuite() {
    for (const auto& t : created_) {
      Status s = admin_->delete_topic(t);
      EXPECT_TRUE(s.ok()) << s.error().message;
    }
    delete admin_;
  }

  static std::string create(const std::string& name, int partitions, ConfigMap configs = {}) {
    auto c = admin_->create_topic(TopicSpec{name, partitions, 1, std::move(configs)});
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (c.ok()) {
      EXPECT_TRUE(c->created);
    }
    created_.push_back(name);
    return name;
  }

  static std::unique_ptr<Producer> producer(DeliveryCallback cb = nullptr) {
    ProducerOptions o;
    o.bootstrap = bootstrap();
    o.message_timeout_ms = 30000;
    o.on_delivery = std::move(cb);
    auto p = Producer::create(std::move(o));
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? std::move(*p) : nullptr;
  }

  static std::unique_ptr<Consumer> consumer(
      const std::string& group, const std::vector<std::string>& topics,
      StartFrom start_from = StartFrom::kBeginning,
      std::map<std::pair<std::string, int32_t>, int64_t> start_offsets = {}) {
    ConsumerOptions o;
    o.bootstrap = bootstrap();
    o.group_id = group;
    o.start_from = start_from;
    o.start_offsets = std::move(start_offsets);
    auto c = Consumer::create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (!c.ok()) return nullptr;
    Status s = (*c)->subscribe(topics);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(*c);
  }

  // Polls until `want` messages arrived or the deadline passed; storing each as processed.
  static std::vector<Message> consume(Consumer& c, size_t want, std::chrono::seconds limit) {
    std::vector<Message> got;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      auto batch = c.poll(500ms);
      EXPECT_TRUE(batch.ok()) << batch.error().message;
      if (!batch.ok()) continue;
      c.store(*batch);
      got.insert(got.end(), batch->begin(), batch->end());
    }
    return got;
  }

  static inline Admin* admin_ = nullptr;
  static inline std::vector<std::string> created_;
};

// Runs a shell command (bounded by `timeout`) and returns its stdout, or an error with the exit status.
Result<std::string> run(const std::string& cmd) {
  std::string full = "timeout 30 " + cmd;
  FILE* f = popen(full.c_str(), "r");
  if (!f) return make_error("popen {}", cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  if (rc != 0) return make_error("{} exited with status {}: {}", cmd, rc, out);
  return out;
}

TEST_F(KafkaIntegration, TopicAdministration) {
  std::string t = create(unique("admin"), 3, {{"cleanup.policy", "delete"}, {"retention.ms", "3600000"}});

  auto again = admin_->create_topic(TopicSpec{t, 3, 1, {}});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_FALSE(again->partition_mismatch);
  auto other = admin_->create_topic(TopicSpec{t, 5, 1, {}});
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_FALSE(other->created);
  EXPECT_TRUE(other->partition_mismatch);
  EXPECT_EQ(other->partitions, 3);

  auto d = admin_->describe_topic(t);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->info.partitions, 3);
  EXPECT_EQ(d->info.replication_factor, 1);
  EXPECT_EQ(d->configs["cleanup.policy"], "delete");
  EXPECT_EQ(d->configs["retention.ms"], "3600000");

  auto topics = admin_->list_topics();
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  bool listed = false;
  for (const auto& i : *topics) listed |= i.name == t && i.partitions == 3;
  EXPECT_TRUE(listed);

  auto missing = admin_->describe_topic(unique("no_such_topic"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Error::Kind::kNotFound) << missing.error().message;

  auto bad = admin_->create_topic(TopicSpec{unique("bad_config"), 1, 1, {{"retention.ms", "soon"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, Error::Kind::kInvalidInput) << bad.error().message;

  // Deleting is idempotent, and the topic disappears from the metadata.
  std::string doomed = unique("doomed");
  ASSERT_TRUE(admin_->create_topic(TopicSpec{doomed, 1, 1, {}}).ok());
  ASSERT_TRUE(admin_->delete_topic(doomed).ok());
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    auto info = admin_->topic_info(doomed);
    gone = !info.ok() && info.error().kind == Error::Kind::kNotFound;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone);
  EXPECT_TRUE(admin_->delete_topic(doomed).ok());
}

TEST_F(KafkaIntegration, TenThousandMessagesRoundTripInOrderAndCommit) {
  constexpr int kN = 10000;
  constexpr int kPartitions = 3;
  std::string t = create(unique("roundtrip"), kPartitions);
  std::string group = unique("group");

  std::set<uint64_t> confirmed;
  std::map<int32_t, int64_t> last_offset;  // delivery reports arrive in offset order per partition
  int out_of_order_reports = 0;
  auto p = producer([&](const Delivery& d) {
    ASSERT_TRUE(d.delivered()) << d.error->message;
    confirmed.insert(d.sequence);
    auto [it, fresh] = last_offset.try_emplace(d.partition, d.offset);
    if (!fresh) {
      if (d.offset != it->second + 1) ++out_of_order_reports;
      it->second = d.offset;
    }
  });
  ASSERT_TRUE(p);
  std::set<uint64_t> sequences;
  for (int i = 0; i < kN; ++i) {
    auto seq = p->produce(t, fmt::format("key-{}", i % 37), std::to_string(i));
    ASSERT_TRUE(seq.ok()) << seq.error().message;
    sequences.insert(*seq);
  }
  Status flushed = p->flush(60s);
  ASSERT_TRUE(flushed.ok()) << flushed.error().message;
  EXPECT_EQ(confirmed, sequences);  // every message confirmed exactly once, by its own sequence number
  EXPECT_EQ(out_of_order_reports, 0);
  EXPECT_EQ(p->stats().delivered, static_cast<uint64_t>(kN));
  EXPECT_EQ(p->stats().failed, 0u);
  ASSERT_TRUE(p->close().ok());

  auto marks = admin_->watermarks(t);
  ASSERT_TRUE(marks.ok()) << marks.error().message;
  ASSERT_EQ(marks->size(), static_cast<size_t>(kPartitions));
  int64_t total = 0;
  for (const auto& w : *marks) total += w.high - w.low;
  EXPECT_EQ(total, kN);

  auto c = consumer(group, {t});
  ASSERT_TRUE(c);
  std::vector<Message> got = consume(*c, kN, 90s);
  ASSERT_EQ(got.size(), static_cast<size_t>(kN));
  std::map<int32_t, std::vector<const Message*>> by_partition;
  std::set<int> values;
  for (const auto& m : got) {
    by_partition[m.partition].push_back(&m);
    ASSERT_TRUE(m.value.has_value());
    values.insert(std::stoi(*m.value));
    EXPECT_EQ(m.topic, t);
    EXPECT_GT(m.timestamp_ms, 0);
  }
  EXPECT_EQ(values.size(), static_cast<size_t>(kN));  // no duplicates, none missing
  EXPECT_EQ(*values.begin(), 0);
  EXPECT_EQ(*values.rbegin(), kN - 1);
  for (const auto& [partition, msgs] : by_partition) {
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(msgs[i]->offset, static_cast<int64_t>(i)) << "partition " << partition;
      // Within a partition, messages come back in the order they were produced.
      if (i > 0) {
        EXPECT_LT(std::stoi(*msgs[i - 1]->value), std::stoi(*msgs[i]->value)) << "partition " << partition;
      }
    }
  }

  Status committed = c->commit();
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_EQ(c->pending_commits(), 0u);
  auto lag = admin_->group_lag(group, t);
  ASSERT_TRUE(lag.ok()) << lag.error().message;
  ASSERT_EQ(lag->size(), static_cast<size_t>(kPartitions));
  for (const auto& l : *lag) {
    EXPECT_EQ(l.lag, 0) << "partition " << l.partition;
    EXPECT_EQ(l.committed, l.high) << "partition " << l.partition;
  }
  auto groups = admin_->list_groups();
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  bool listed = false;
  for (const auto& g : *groups) listed |= g.group_id == group;
  EXPECT_TRUE(listed);
  ASSERT_TRUE(c->close().ok());

  // Reopening the group redelivers nothing: wait for the assignment, then keep polling a while.
  auto again = consumer(group, {t});
  ASSERT_TRUE(again);
  size_t redelivered = 0;
  bool assigned = false;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  auto quiet_until = deadline;
  while (std::chrono::steady_clock::now() < std::min(deadline, quiet_until)) {
    auto batch = again->poll(500ms);
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    redelivered += batch->size();
    auto a = again->assignment();
    if (!assigned && a.ok() && !a->empty()) {
      assigned = true;
      quiet_until = std::chrono::steady_clock::now() + 3s;
    }
  }
  EXPECT_TRUE(assigned);
  EXPECT_EQ(redelivered, 0u);
  ASSERT_TRUE(again->close().ok());
}

TEST_F(KafkaIntegration, OnlyStoredOffsetsAreCommitted) {
  std::string t = create(unique("redeliver"), 1);
  std::string group = unique("group_redeliver");
  auto p = producer();
  ASSERT_TRUE(p);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p->produce(t, "k", std::to_string(i)).ok());
  ASSERT_TRUE(p->close().ok());

  auto c = consumer(group, {t});
  ASSERT_TRUE(c);
  std::vector<Message> got;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (got.size() < 10 && std::chrono::steady_clock::now() < deadline) {
    auto batch = c->poll(500ms);
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    got.insert(got.end(), batch->begin(), batch->end());  // received, but not stored
  }
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 4; ++i) c->store(got[i]);  // only these count as processed
  ASSERT_TRUE(c->close().ok());                  // close() commits what was stored

  auto lag = admin_->group_lag(group, t);
  ASSERT_TRUE(lag.ok()) << lag.error().message;
  ASSERT_EQ(lag->size(), 1u);
  EXPECT_EQ((*lag)[0].committed, 4);
  EXPECT_EQ((*lag)[0].lag, 6);

  // The next member of the group gets exactly the unprocessed six.
  auto next = consumer(group, {t});
  ASSERT_TRUE(next);
  auto rest = consume(*next, 6, 30s);
  auto more = next->poll(1s);
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_TRUE(more->empty());
  ASSERT_EQ(rest.size(), 6u);
  EXPECT_EQ(rest.front().offset, 4);
  EXPECT_EQ(rest.front().value, "4");
  EXPECT_EQ(rest.back().value, "9");
  ASSERT_TRUE(next->close().ok());
}

TEST_F(KafkaIntegration, ANewGroupFromTheEndCommitsItsStartOnEveryPartition) {
  std::string t = create(unique("from_end"), 3);
  std::string group = unique("group_from_end");
  auto p = producer();
  ASSERT_TRUE(p);
  // Older messages on two partitions only; the third stays empty.
  for (int i = 0; i < 6; ++i) {
    const std::string value = "old" + std::to_string(i);
    ASSERT_TRUE(
        p->produce(Record{.topic = t, .key = "k", .value = value, .headers = {}, .partition = i % 2}).ok());
  }
  ASSERT_TRUE(p->flush(10s).ok());

  auto c = consumer(group, {t}, StartFrom::kEnd);
  ASSERT_TRUE(c);
  for (int i = 0; i < 20 && (!c->assignment().ok() || c->assignment()->size() < 3); ++i) {
    ASSERT_TRUE(c->poll(500ms).ok());
  }
  ASSERT_EQ(c->assignment()->size(), 3u);
  // Before it has consumed anything the group has committed its start: lag 0, not the older messages.
  auto lag = admin_->group_lag(group, t);
  ASSERT_TRUE(lag.ok()) << lag.error().message;
  ASSERT_EQ(lag->size(), 3u);
  for (const auto& pl : *lag) {
    EXPECT_EQ(pl.committed, pl.high) << "partition " << pl.partition;
    EXPECT_EQ(pl.lag, 0) << "partition " << pl.partition;
  }
  // Only what arrives after the start is delivered, on the empty partition too.
  ASSERT_TRUE(p->produce(Record{.topic = t, .key = "k", .value = "new", .headers = {}, .partition = 2}).ok());
  ASSERT_TRUE(p->close().ok());
  auto got = consume(*c, 1, 30s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "new");
  EXPECT_EQ(got[0].partition, 2);
  ASSERT_TRUE(c->close().ok());
}

TEST_F(KafkaIntegration, StartOffsetsPlaceANewGroupOnTheListedPartitions) {
  std::string t = create(unique("start_at"), 2);
  std::string group = unique("group_start_at");
  auto p = producer();
  ASSERT_TRUE(p);
  for (int i = 0; i < 10; ++i) {
    const std::string value = "m" + std::to_string(i);
    ASSERT_TRUE(
        p->produce(Record{.topic = t, .key = "k", .value = value, .headers = {}, .partition = 0}).ok());
  }
  ASSERT_TRUE(p->produce(Record{.topic = t, .key = "k", .value = "p1", .headers = {}, .partition = 1}).ok());
  ASSERT_TRUE(p->close().ok());

  // Partition 0 starts at offset 7 (as if a snapshot held the first seven); partition 1 is not listed and
  // starts as start_from says, from its beginning.
  auto c = consumer(group, {t}, StartFrom::kBeginning, {{{t, 0}, 7}});
  ASSERT_TRUE(c);
  auto got = consume(*c, 4, 30s);
  ASSERT_EQ(got.size(), 4u);
  std::set<std::string> values;
  for (const auto& m : got) values.insert(m.value.value_or("<null>"));
  EXPECT_EQ(values, (std::set<std::string>{"m7", "m8", "m9", "p1"}));
  auto extra = c->poll(1s);
  ASSERT_TRUE(extra.ok());
  EXPECT_TRUE(extra->empty());
  ASSERT_TRUE(c->close().ok());
}

TEST_F(KafkaIntegration, RegexSubscriptionSeesMatchingTopics) {
  std::string prefix = unique("rx");
  std::string a = create(prefix + ".a", 1);
  std::string b = create(prefix + ".b", 1);
  std::string other = create(prefix + "_other", 1);
  auto p = producer();
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->produce(a, "k", "in-a").ok());
  ASSERT_TRUE(p->produce(b, "k", "in-b").ok());
  ASSERT_TRUE(p->produce(other, "k", "not-matched").ok());
  ASSERT_TRUE(p->close().ok());

  auto c = consumer(unique("group_rx"), {fmt::format("^{}\\..*", prefix)});
  ASSERT_TRUE(c);
  auto got = consume(*c, 2, 30s);
  auto extra = c->poll(2s);  // the unmatched topic must not show up
  ASSERT_TRUE(extra.ok()) << extra.error().message;
  EXPECT_TRUE(extra->empty());
  std::set<std::string> seen;
  for (const auto& m : got) seen.insert(m.topic + "=" + m.value.value_or("<null>"));
  EXPECT_EQ(seen, (std::set<std::string>{a + "=in-a", b + "=in-b"}));
  ASSERT_TRUE(c->close().ok());
}

TEST_F(KafkaIntegration, InteroperatesWithKcat) {
  std::string t = create(unique("kcat"), 1);
  std::string b = bootstrap();

  // Ours -> kcat, with a header and a tombstone.
  auto p = producer();
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->produce(Record{.topic = t,
                                .key = "k1",
                                .value = "from-fleetpipe",
                                .headers = {{"origin", "fp"}},
                                .partition = -1})
                  .ok());
  ASSERT_TRUE(
      p->produce(Record{.topic = t, .key = "k0", .value = std::nullopt, .headers = {}, .partition = -1})
          .ok());
  ASSERT_TRUE(p->close().ok());
  auto out = run(fmt::format("kcat -C -b {} -t {} -o beginning -e -q -f '%k=%s|%h|%o\\n'", b, t));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "k1=from-fleetpipe|origin=fp|0\nk0=||1\n");

  // kcat -> ours.
  auto in = run(fmt::format("sh -c \"printf 'k2:from-kcat\\n' | kcat -P -b {} -t {} -K:\"", b, t));
  ASSERT_TRUE(in.ok()) << in.error().message;
  auto c = consumer(unique("group_kcat"), {t});
  ASSERT_TRUE(c);
  auto got = consume(*c, 3, 30s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].key, "k1");
  EXPECT_EQ(got[0].value, "from-fleetpipe");
  ASSERT_EQ(got[0].headers.size(), 1u);
  EXPECT_EQ(got[0].headers[0].key, "origin");
  EXPECT_EQ(got[0].headers[0].value, "fp");
  EXPECT_EQ(got[1].key, "k0");
  EXPECT_FALSE(got[1].value.has_value());  // tombstone stays null, not ""
  EXPECT_EQ(got[2].key, "k2");
  EXPECT_EQ(got[2].value, "from-kcat");
  EXPECT_EQ(got[2].offset, 2);
  ASSERT_TRUE(c->close().ok());
}

}  // namespace
}  // namespace fp::kafka
