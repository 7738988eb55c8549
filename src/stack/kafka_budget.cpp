#include "stack/kafka_budget.h"

#include "common/byte_size.h"
#include "common/disk_space.h"

namespace fp::stack {

std::filesystem::path kafka_log_dir(const Context& ctx) {
  return ctx.state() / "kafka" / "data";
}

Result<KafkaBudget> kafka_budget(const Context& ctx) {
  KafkaBudget b;
  b.file = FP_TRY(read_topic_file(ctx.repo / "config" / "topics.json"), "Kafka disk budget");
  if (ctx.cfg.kafka_disk_budget) {
    b.bytes = *ctx.cfg.kafka_disk_budget;
    b.origin = "FLEETPIPE_KAFKA_DISK_BUDGET";
  } else {
    // The state directory may not exist before the first `up`; its nearest existing parent is on the same
    // filesystem as it will be.
    std::filesystem::path probe = ctx.state();
    while (!probe.empty() && !std::filesystem::exists(probe) && probe != probe.root_path())
      probe = probe.parent_path();
    const auto fs = FP_TRY(filesystem_space(probe), "Kafka disk budget");
    int64_t kafka_bytes = 0;
    if (auto t = tree_size(kafka_log_dir(ctx)); t.ok()) kafka_bytes = t->bytes;
    b.bytes = default_kafka_budget(fs.free_bytes, kafka_bytes);
    b.origin = fmt::format(
        "default: 25 % of the free space of {} ({}) plus Kafka's log directory ({}), in steps of 256 MiB, "
        "between 512 MiB and 64 GiB",
        probe.string(), format_byte_size(fs.free_bytes), format_byte_size(kafka_bytes));
  }
  std::vector<BudgetClaim> claims;
  for (const auto& t : b.file.topics)
    if (t.disk_share > 0) claims.push_back(BudgetClaim{t.spec.name, t.spec.partitions, t.disk_share});
  // The undeclared topics' share is claimed as one partition: `up` splits it between those it finds.
  claims.push_back(BudgetClaim{"(undeclared topics)", 1, b.file.undeclared_disk_share});
  auto split = FP_TRY(split_budget(b.bytes, claims), fmt::format("Kafka disk budget ({})", b.origin));
  b.undeclared = split.back();
  split.pop_back();
  b.topics = std::move(split);
  return b;
}

const TopicBudget* budget_of(const KafkaBudget& b, const std::string& topic) {
  for (const auto& t : b.topics)
    if (t.name == topic) return &t;
  return nullptr;
}

kafka::ConfigMap budgeted_configs(const DeclaredTopic& topic, const TopicBudget* budget) {
  kafka::ConfigMap out = topic.spec.configs;
  if (budget) {
    out["retention.bytes"] = std::to_string(budget->retention.retention_bytes);
    out["segment.bytes"] = std::to_string(budget->retention.segment_bytes);
  }
  return out;
}

nlohmann::json to_json(const KafkaBudget& b) {
  auto one = [](const TopicBudget& t) {
    return nlohmann::json{{"partitions", t.partitions},
                          {"disk_share", t.weight},
                          {"topic_bytes", t.topic_bytes},
                          {"partition_bytes", t.partition_bytes},
                          {"retention.bytes", t.retention.retention_bytes},
                          {"segment.bytes", t.retention.segment_bytes}};
  };
  nlohmann::json topics = nlohmann::json::array();
  for (const auto& d : b.file.topics) {
    nlohmann::json item = {{"name", d.spec.name}};
    if (const TopicBudget* t = budget_of(b, d.spec.name)) {
      item.update(one(*t));
    } else {
      item["partitions"] = d.spec.partitions;
      item["retention.bytes"] = nullptr;  // compacted only: bounded by its keys
    }
    const auto ms = d.spec.configs.find("retention.ms");
    item["retention.ms"] = ms == d.spec.configs.end() ? nlohmann::json() : nlohmann::json(ms->second);
    topics.push_back(std::move(item));
  }
  nlohmann::json undeclared = one(b.undeclared);
  undeclared.erase("partitions");
  undeclared["note"] =
      "split between the topics `up` finds that config/topics.json does not declare (compacted ones "
      "excepted); retention.ms stays the broker's default (log.retention.hours=168)";
  return {{"budget_bytes", b.bytes},
          {"budget", format_byte_size(b.bytes)},
          {"origin", b.origin},
          {"topics", std::move(topics)},
          {"undeclared_topics", std::move(undeclared)}};
}

}  // namespace fp::stack
