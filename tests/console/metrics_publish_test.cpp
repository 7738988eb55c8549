#include "console/metrics_publish.h"

#include <gtest/gtest.h>

namespace fp::console {
namespace {

using nlohmann::json;

json overview_with(json storage, json retention) {
  return {{"storage", std::move(storage)}, {"kafka_retention", std::move(retention)}};
}

TEST(MetricsPublishTest, DiskAndRetentionGauges) {
  metrics::Registry reg;
  publish_overview_metrics(
      overview_with(json::parse(R"({"kafka": {"topics": [{"name": "trips", "bytes": 1200, "complete": true}]},
                                    "bucket": {"bucket": "raw", "bytes": 77, "complete": true}})"),
                    json::parse(R"({"partitions": [
          {"group": "realtime", "topic": "trips", "partition": 2, "risk": "lost", "headroom_ratio": 0.0,
           "lost_messages": 1200},
          {"group": "realtime", "topic": "trips", "partition": 0, "risk": "ok", "headroom_ratio": 0.75,
           "lost_messages": 0}]})")),
      reg);
  const std::string text = reg.render();
  EXPECT_NE(text.find("fp_disk_bytes{name=\"trips\",store=\"kafka_topic\"} 1200"), std::string::npos) << text;
  EXPECT_NE(text.find("fp_disk_bytes{name=\"raw\",store=\"bucket\"} 77"), std::string::npos) << text;
  EXPECT_NE(
      text.find("fp_kafka_group_lost_messages{group=\"realtime\",partition=\"2\",topic=\"trips\"} 1200"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "fp_kafka_group_retention_headroom_ratio{group=\"realtime\",partition=\"0\",topic=\"trips\"} 0.75"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("fp_kafka_group_partitions_lost 1"), std::string::npos) << text;
  EXPECT_NE(text.find("fp_kafka_group_partitions_at_risk 0"), std::string::npos) << text;
}

TEST(MetricsPublishTest, WhatIsGoneOrUnreadableStopsBeingExported) {
  metrics::Registry reg;
  publish_overview_metrics(
      overview_with(json::parse(R"({"bucket": {"bucket": "raw", "bytes": 77}})"),
                    json::parse(R"({"partitions": [{"group": "g", "topic": "t", "partition": 0,
                                    "risk": "ok", "headroom_ratio": 1.0, "lost_messages": 0}]})")),
      reg);
  ASSERT_NE(reg.render().find("group=\"g\""), std::string::npos);
  // The bucket could not be listed and Kafka could not be read this time: no stale figures.
  publish_overview_metrics(
      overview_with(json::parse(R"({"bucket": {"error": "refused"}})"), json::parse(R"({"error": "down"})")),
      reg);
  const std::string text = reg.render();
  EXPECT_EQ(text.find("store=\"bucket\""), std::string::npos) << text;
  EXPECT_EQ(text.find("group=\"g\""), std::string::npos) << text;
  EXPECT_EQ(text.find("fp_kafka_group_partitions_lost 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace fp::console
