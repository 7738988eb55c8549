#include "stack/disk_report.h"

#include <gtest/gtest.h>

namespace fp::stack {
namespace {

using nlohmann::json;

TEST(DiskReportTest, PartitionDirectoriesOfKafkasLogDirectory) {
  EXPECT_EQ(parse_partition_dir("trips-0"), std::make_pair(std::string("trips"), 0));
  EXPECT_EQ(parse_partition_dir("webapp.public.trips-12"),
            std::make_pair(std::string("webapp.public.trips"), 12));
  EXPECT_EQ(parse_partition_dir("__debezium-heartbeat.webapp-0"),
            std::make_pair(std::string("__debezium-heartbeat.webapp"), 0));
  EXPECT_EQ(parse_partition_dir("__cluster_metadata-0"),
            std::make_pair(std::string("__cluster_metadata"), 0));
  for (const char* other : {"meta.properties", "recovery-point-offset-checkpoint", "trips-0.3f2a9c-delete",
                            "trips-", "-0", "trips-0-future", "trips-1234567890"})
    EXPECT_FALSE(parse_partition_dir(other).has_value()) << other;
}

const json kReport = json::parse(R"({
  "taken_at_ms": 1000,
  "filesystem": {"path": "/s", "total_bytes": 100, "used_bytes": 60, "free_bytes": 40},
  "state_dir": {"path": "/s", "parts": [{"name": "postgres", "bytes": 30, "complete": true},
                                        {"name": "kafka", "bytes": 20, "complete": false},
                                        {"name": "log", "error": "permission denied"}]},
  "postgres": [{"server": "postgres-webapp", "databases": [{"name": "webapp", "bytes": 7}], "wal_bytes": 16},
               {"server": "postgres-warehouse", "error": "connection refused"}],
  "kafka": {"source": "/s/kafka/data", "topics": [{"name": "trips", "partitions": 3, "bytes": 12, "complete": true}]},
  "bucket": {"bucket": "raw", "prefix": "", "bytes": 5, "objects": 2, "complete": true}
})");

TEST(DiskReportTest, LinesFlattenEveryFigureAndLeaveOutFailures) {
  const auto lines = disk_lines(kReport);
  std::vector<std::string> seen;
  for (const auto& l : lines)
    seen.push_back(fmt::format("{} {} {} {}", l.store, l.name, l.bytes, l.complete));
  EXPECT_EQ(seen,
            (std::vector<std::string>{
                "filesystem total 100 true", "filesystem used 60 true", "filesystem free 40 true",
                "state_dir postgres 30 true", "state_dir kafka 20 false",
                "postgres_database postgres-webapp/webapp 7 true", "postgres_wal postgres-webapp 16 true",
                "kafka_topic trips 12 true", "bucket raw 5 true"}));
  EXPECT_TRUE(disk_lines(json::object()).empty());
}

TEST(DiskReportTest, TheTableShowsFiguresBoundsAndWhatWasNotMeasured) {
  const std::string t = disk_table(kReport);
  EXPECT_NE(t.find("Kafka topic"), std::string::npos) << t;
  EXPECT_NE(t.find(">= 20 B"), std::string::npos) << t;  // an incomplete walk is a lower bound
  EXPECT_NE(t.find("filesystem of /s: 60 B used, 40 B free of 100 B"), std::string::npos) << t;
  EXPECT_NE(t.find("not measured: state directory log: permission denied"), std::string::npos) << t;
  EXPECT_NE(t.find("not measured: postgres-warehouse: connection refused"), std::string::npos) << t;
}

}  // namespace
}  // namespace fp::stack
