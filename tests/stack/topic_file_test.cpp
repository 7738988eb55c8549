// config/topics.json and the connector's topic defaults, as `up` reads them: every topic that deletes old
// segments is bounded by size too.
#include "stack/topic_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "stack/kafka_budget.h"
#include "stack/provision.h"

namespace fp::stack {
namespace {

using nlohmann::json;

TEST(TopicFileTest, ReadsSharesAndConfigs) {
  const json doc = json::parse(R"({"undeclared_disk_share": 5, "topics": [
      {"name": "a", "partitions": 3, "disk_share": 40, "config": {"retention.ms": "1000"}},
      {"name": "c", "config": {"cleanup.policy": "compact"}}]})");
  auto f = parse_topic_file(doc, "t.json");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->undeclared_disk_share, 5);
  ASSERT_EQ(f->topics.size(), 2u);
  EXPECT_EQ(f->topics[0].spec.partitions, 3);
  EXPECT_EQ(f->topics[0].disk_share, 40);
  EXPECT_EQ(f->topics[0].spec.configs.at("retention.ms"), "1000");
  EXPECT_EQ(f->topics[1].disk_share, 0);  // compacted only: sized by its keys
}

TEST(TopicFileTest, RefusesAnUnboundedOrDoublyDefinedTopic) {
  const char* bad[] = {
      // deletes by time but has no share of the budget
      R"({"undeclared_disk_share": 5, "topics": [{"name": "a", "config": {"cleanup.policy": "delete"}}]})",
      R"({"undeclared_disk_share": 5, "topics": [{"name": "a"}]})",  // delete is Kafka's default
      R"({"undeclared_disk_share": 5, "topics": [{"name": "a", "disk_share": 1,
          "config": {"retention.bytes": "1000"}}]})",                // derived, not declared
      R"({"undeclared_disk_share": 5, "topics": [{"name": "a", "disk_share": 1,
          "config": {"segment.bytes": "1000"}}]})",
      R"({"topics": [{"name": "a", "disk_share": 1}]})",  // no share for undeclared topics
      R"({"undeclared_disk_share": 5, "topics": [{"name": "a", "disk_share": -1}]})",
      R"({"undeclared_disk_share": 5, "topics": [{"disk_share": 1}]})",
  };
  for (const char* text : bad) {
    auto f = parse_topic_file(json::parse(text), "t.json");
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.error().kind, Error::Kind::kInvalidInput) << text;
  }
}

TEST(TopicFileTest, CleanupPolicies) {
  EXPECT_TRUE(deletes_old_segments(""));
  EXPECT_TRUE(deletes_old_segments("delete"));
  EXPECT_TRUE(deletes_old_segments("compact,delete"));
  EXPECT_FALSE(deletes_old_segments("compact"));
}

TEST(TopicFileTest, OnlyRetentionDriftIsAltered) {
  const kafka::ConfigMap wanted = {{"retention.ms", "1000"},
                                   {"retention.bytes", "2000"},
                                   {"segment.bytes", "500"},
                                   {"cleanup.policy", "delete"}};
  const auto drift = retention_drift(
      wanted, {{"retention.ms", "1000"}, {"retention.bytes", "-1"}, {"cleanup.policy", "compact"}});
  EXPECT_EQ(drift, (kafka::ConfigMap{{"retention.bytes", "2000"}, {"segment.bytes", "500"}}));
  EXPECT_TRUE(retention_drift(wanted, wanted).empty());
}

// The repository's own files (tests run in the source directory).
TEST(TopicFileTest, EveryDeclaredTopicThatDeletesIsBoundedBySize) {
  auto f = read_topic_file("config/topics.json");
  ASSERT_TRUE(f.ok()) << f.error().message;
  for (const auto& t : f->topics) {
    const auto policy = t.spec.configs.count("cleanup.policy") ? t.spec.configs.at("cleanup.policy") : "";
    if (deletes_old_segments(policy)) {
      EXPECT_GT(t.disk_share, 0) << t.spec.name;
    }
    EXPECT_TRUE(t.spec.configs.count("retention.ms")) << t.spec.name << ": time retention is declared";
  }
}

TEST(TopicFileTest, TheConnectorsTopicsAreDeclaredOrBoundedByItsDefaults) {
  std::ifstream in("config/connectors/webapp-cdc.json");
  const json c = json::parse(in, nullptr, false)["config"];
  ASSERT_TRUE(c.is_object());
  auto f = read_topic_file("config/topics.json");
  ASSERT_TRUE(f.ok());
  auto declared = [&](const std::string& name) {
    for (const auto& t : f->topics)
      if (t.spec.name == name) return true;
    return false;
  };
  // Debezium's heartbeat goes to __debezium-heartbeat.<topic.prefix>; declared, `up` creates it bounded.
  EXPECT_TRUE(declared("__debezium-heartbeat." + c.value("topic.prefix", "")));
  const std::string prefix = c.value("topic.prefix", "") + ".";
  std::string tables = c.value("table.include.list", "");
  for (size_t start = 0; start <= tables.size();) {
    const auto comma = tables.find(',', start);
    const std::string table =
        tables.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    EXPECT_TRUE(declared(prefix + table)) << prefix + table;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  // A topic it creates for a table added later is bounded by its topic.creation defaults until the next
  // `up` gives it the undeclared share: a bytes bound, with segments smaller than it (Kafka deletes whole
  // segments only).
  const auto retention = std::stoll(c.value("topic.creation.default.retention.bytes", "-1"));
  const auto segment = std::stoll(c.value("topic.creation.default.segment.bytes", "-1"));
  EXPECT_GT(retention, 0);
  EXPECT_GE(segment, kMinSegmentBytes);
  EXPECT_LT(segment, retention);
  EXPECT_EQ(c.value("topic.creation.default.cleanup.policy", ""), "delete");
}

}  // namespace
}  // namespace fp::stack
