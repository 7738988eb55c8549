// config/topics.json: the topics `up` creates, with their partitions, their configs (time retention among
// them) and each one's share of Kafka's disk budget ("disk_share", a weight; stack/retention_plan.h turns
// the budget and the weights into retention.bytes and segment.bytes).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/kafka/admin.h"

namespace fp::stack {

struct DeclaredTopic {
  kafka::TopicSpec spec;  // name, partitions, replication, configs as declared
  double disk_share = 0;  // > 0 unless the topic is compacted only (its size follows its keys, not time)
};

struct TopicFile {
  std::vector<DeclaredTopic> topics;
  // The share kept for topics nobody declared (a table Debezium captures later, a topic made by hand): `up`
  // splits it between the undeclared topics it finds.
  double undeclared_disk_share = 0;
};

// Whether a cleanup.policy value deletes by time and size ("delete", "compact,delete"); compact-only
// topics ignore retention.ms and retention.bytes.
bool deletes_old_segments(const std::string& cleanup_policy);

// The configs fleetpipe derives and therefore refuses in the file: one source for each value.
inline constexpr const char* kDerivedTopicConfigs[] = {"retention.bytes", "segment.bytes"};

Result<TopicFile> parse_topic_file(const nlohmann::json& doc, const std::string& origin);
Result<TopicFile> read_topic_file(const std::filesystem::path& file);

}  // namespace fp::stack
