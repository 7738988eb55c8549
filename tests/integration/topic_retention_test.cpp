// Retention settings reach the topics: `fleetpipe topics apply` (what `up` runs) gives every declared topic
// the retention.bytes and segment.bytes its share of the Kafka disk budget derives, alters them on existing
// topics when the budget changes and back, bounds an undeclared topic that deletes old segments without
// touching its other overrides, and leaves a compacted-only one alone. Also: `status --json` reports each
// store's disk usage. Runs the real build/fleetpipe against the running stack, from the repository root.
//
// The budget is set explicitly (FLEETPIPE_KAFKA_DISK_BUDGET) for the runs it compares, so the figures do not
// depend on the free space at the moment; the last step applies the configured budget again, which is what
// the next `up` would do anyway.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "common/kafka/admin.h"
#include "stack/kafka_budget.h"
#include "test_support.h"

namespace fp {
namespace {

using nlohmann::json;

// Runs build/fleetpipe with `env` before it; stdout captured, stderr to the test's log.
std::pair<int, std::string> fleetpipe(const std::string& env, const std::string& args) {
  const std::string cmd = fmt::format("{} ./build/fleetpipe {}", env, args);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class TopicRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = *cfg;
    kafka::AdminOptions o;
    o.bootstrap = cfg_.kafka_bootstrap;
    auto a = kafka::Admin::create(o);
    ASSERT_TRUE(a.ok()) << a.error().message;
    admin_ = std::move(*a);
  }
  static void TearDownTestSuite() {
    // Back to the configured budget, as `up` would leave it.
    EXPECT_EQ(fleetpipe("", "topics apply").first, 0);
  }

  // The plan `fleetpipe config` shows under a given budget.
  json plan(const std::string& budget) {
    auto [rc, out] = fleetpipe("FLEETPIPE_KAFKA_DISK_BUDGET=" + budget, "config");
    EXPECT_EQ(rc, 0);
    const json doc = json::parse(out, nullptr, false);
    EXPECT_TRUE(doc.is_object() && doc.contains("kafka_disk")) << out;
    return doc.is_object() ? doc.value("kafka_disk", json::object()) : json::object();
  }

  kafka::ConfigMap configs(const std::string& topic) {
    auto d = admin_->describe_topic(topic);
    EXPECT_TRUE(d.ok()) << topic << ": " << (d.ok() ? "" : d.error().message);
    return d.ok() ? d->configs : kafka::ConfigMap{};
  }

  void expect_plan_applied(const json& p) {
    ASSERT_TRUE(p.contains("topics")) << p.dump();
    for (const auto& t : p["topics"]) {
      const std::string name = t.value("name", "");
      const auto c = configs(name);
      if (t["retention.bytes"].is_null()) continue;  // compacted only
      EXPECT_EQ(c.at("retention.bytes"), std::to_string(t["retention.bytes"].get<int64_t>())) << name;
      EXPECT_EQ(c.at("segment.bytes"), std::to_string(t["segment.bytes"].get<int64_t>())) << name;
      EXPECT_LT(std::stoll(c.at("segment.bytes")), std::stoll(c.at("retention.bytes"))) << name;
      if (t["retention.ms"].is_string()) {
        EXPECT_EQ(c.at("retention.ms"), t["retention.ms"].get<std::string>()) << name;
      }
    }
  }

  Config cfg_;
  std::unique_ptr<kafka::Admin> admin_;
};

TEST_F(TopicRetentionTest, DeclaredTopicsFollowTheBudgetBothWays) {
  const json small = plan("2GiB");
  const json large = plan("6GiB");
  ASSERT_NE(small.value("budget_bytes", int64_t{0}), large.value("budget_bytes", int64_t{0}));
  ASSERT_EQ(fleetpipe("FLEETPIPE_KAFKA_DISK_BUDGET=2GiB", "topics apply").first, 0);
  expect_plan_applied(small);
  // Existing topics are altered, not only new ones created.
  ASSERT_EQ(fleetpipe("FLEETPIPE_KAFKA_DISK_BUDGET=6GiB", "topics apply").first, 0);
  expect_plan_applied(large);
  // Applying the same budget again changes nothing and succeeds.
  ASSERT_EQ(fleetpipe("FLEETPIPE_KAFKA_DISK_BUDGET=6GiB", "topics apply").first, 0);
  expect_plan_applied(large);
}

TEST_F(TopicRetentionTest, UndeclaredTopicsAreBoundedAndKeepTheirOtherSettings) {
  integration::ScratchTopics scratch(cfg_.kafka_bootstrap, "fp_it_retention");
  const std::string deleting = scratch.make({{"compression.type", "lz4"}, {"retention.ms", "3600000"}});
  const std::string compacted = scratch.make({{"cleanup.policy", "compact"}});
  ASSERT_EQ(configs(deleting).at("retention.bytes"), "-1");
  ASSERT_EQ(fleetpipe("FLEETPIPE_KAFKA_DISK_BUDGET=2GiB", "topics apply").first, 0);
  const auto c = configs(deleting);
  const auto bytes = std::stoll(c.at("retention.bytes"));
  EXPECT_GT(bytes, 0);
  EXPECT_LT(std::stoll(c.at("segment.bytes")), bytes);
  // The alter carried its other overrides over (librdkafka 2.0's AlterConfigs replaces the whole set).
  EXPECT_EQ(c.at("compression.type"), "lz4");
  EXPECT_EQ(c.at("retention.ms"), "3600000");
  // Compacted only: sized by its keys, no bytes bound.
  EXPECT_EQ(configs(compacted).at("retention.bytes"), "-1");
  EXPECT_EQ(configs(compacted).at("cleanup.policy"), "compact");
}

TEST_F(TopicRetentionTest, EveryTopicThatDeletesOnTheBrokerIsBoundedAfterApply) {
  // The topics that exist before the apply: one another suite creates meanwhile is not this test's business.
  auto topics = admin_->list_topics(true);
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  ASSERT_EQ(fleetpipe("", "topics apply").first, 0);
  for (const auto& t : *topics) {
    if (t.name == "__consumer_offsets" || t.name == "__transaction_state" || t.name == "__share_group_state")
      continue;
    auto d = admin_->describe_topic(t.name);
    if (!d.ok() && d.error().kind == Error::Kind::kNotFound) continue;  // deleted since by its suite
    ASSERT_TRUE(d.ok()) << t.name << ": " << d.error().message;
    const auto& c = d->configs;
    if (!stack::deletes_old_segments(c.count("cleanup.policy") ? c.at("cleanup.policy") : "")) continue;
    EXPECT_GT(std::stoll(c.at("retention.bytes")), 0) << t.name;
    EXPECT_LT(std::stoll(c.at("segment.bytes")), std::stoll(c.at("retention.bytes"))) << t.name;
  }
}

TEST_F(TopicRetentionTest, StatusReportsEachStoresDiskUsage) {
  auto [rc, out] = fleetpipe("", "status --json");
  (void)rc;  // a part may be unhealthy for reasons of its own; the report is what is checked
  // The array of parts it always was; each store's part carries its own figures.
  const json parts = json::parse(out, nullptr, false);
  ASSERT_TRUE(parts.is_array()) << out.substr(0, 2000);
  std::map<std::string, json> disk;
  for (const auto& p : parts)
    if (p.contains("disk")) disk[p.value("name", "")] = p["disk"];
  ASSERT_TRUE(disk.contains("supervisor") && disk.contains("kafka") && disk.contains("s3proxy") &&
              disk.contains("postgres-webapp") && disk.contains("postgres-warehouse"))
      << out.substr(0, 4000);
  EXPECT_GT(disk["supervisor"]["filesystem"].value("free_bytes", int64_t{0}), 0)
      << disk["supervisor"].dump(2);
  bool trips = false;
  for (const auto& t : disk["kafka"].value("topics", json::array()))
    trips = trips || t.value("name", "") == "trips";
  EXPECT_TRUE(trips) << disk["kafka"].dump(2);
  for (const char* server : {"postgres-webapp", "postgres-warehouse"}) {
    const json& s = disk[server];
    EXPECT_FALSE(s.contains("error")) << s.dump();
    EXPECT_TRUE(s.contains("wal_bytes")) << "pg_monitor for the console's role: " << s.dump();
    EXPECT_FALSE(s.value("databases", json::array()).empty()) << s.dump();
  }
  EXPECT_FALSE(disk["s3proxy"].contains("error")) << disk["s3proxy"].dump();
  EXPECT_TRUE(disk["s3proxy"].contains("bytes")) << disk["s3proxy"].dump();
}

}  // namespace
}  // namespace fp
