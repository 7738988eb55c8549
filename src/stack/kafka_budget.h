// Kafka's disk budget as `up` applies it and `fleetpipe config` shows it: FLEETPIPE_KAFKA_DISK_BUDGET, or
// the default worked out from the state directory's filesystem (stack/retention_plan.h), split between the
// topics of config/topics.json by their disk_share.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stack/component.h"
#include "stack/retention_plan.h"
#include "stack/topic_file.h"

namespace fp::stack {

struct KafkaBudget {
  int64_t bytes = 0;
  std::string origin;  // where the number came from, for logs and `fleetpipe config`
  TopicFile file;
  std::vector<TopicBudget> topics;  // the declared topics that delete old segments, in the file's order
  TopicBudget undeclared;           // the share the undeclared topics `up` finds split between them
};

// The broker's log directory when it runs from this state directory (log.dirs in kafka-server.properties).
std::filesystem::path kafka_log_dir(const Context& ctx);

// Reads config/topics.json and, without FLEETPIPE_KAFKA_DISK_BUDGET, the state directory's free space and
// the size of Kafka's log directory (bounded walk).
Result<KafkaBudget> kafka_budget(const Context& ctx);

// A declared topic's budget, or null for one without (compacted only).
const TopicBudget* budget_of(const KafkaBudget& b, const std::string& topic);

// What a declared topic is created with and kept at: its declared configs plus retention.bytes and
// segment.bytes from its budget.
kafka::ConfigMap budgeted_configs(const DeclaredTopic& topic, const TopicBudget* budget);

// The budget and each topic's derived retention.bytes, segment.bytes and retention.ms.
nlohmann::json to_json(const KafkaBudget& b);

}  // namespace fp::stack
