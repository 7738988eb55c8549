#include "console/metrics_publish.h"

#include "stack/disk_report.h"

namespace fp::console {

namespace {

constexpr const char* kDiskBytes = "fp_disk_bytes";
constexpr const char* kHeadroom = "fp_kafka_group_retention_headroom_ratio";
constexpr const char* kLost = "fp_kafka_group_lost_messages";

void publish_disk(const nlohmann::json& storage, metrics::Registry& reg) {
  std::vector<metrics::Labels> live;
  // A panel that failed as a whole has no lines: every series goes, none is left stale.
  for (const auto& l : stack::disk_lines(storage)) {
    metrics::Labels labels = {{"store", l.store}, {"name", l.name}};
    reg.gauge(kDiskBytes,
              "Bytes a store takes on disk (store: filesystem, state_dir, postgres_database, postgres_wal, "
              "kafka_topic, bucket); a walk cut short by its time limit reports a lower bound",
              labels)
        .set(static_cast<double>(l.bytes));
    live.push_back(std::move(labels));
  }
  reg.retain(kDiskBytes, live);
}

void publish_retention(const nlohmann::json& retention, metrics::Registry& reg) {
  std::vector<metrics::Labels> live;
  int at_risk = 0;
  int lost = 0;
  for (const auto& p : retention.value("partitions", nlohmann::json::array())) {
    metrics::Labels labels = {{"group", p.value("group", "")},
                              {"topic", p.value("topic", "")},
                              {"partition", std::to_string(p.value("partition", -1))}};
    reg.gauge(kHeadroom,
              "Share of a partition's retained messages the group has read: what Kafka deletes next comes "
              "from it; 0 means the next deletion loses messages the group has not read",
              labels)
        .set(p.value("headroom_ratio", 1.0));
    reg.gauge(kLost,
              "Messages a group's committed offset is behind the partition's low watermark: lost to it",
              labels)
        .set(static_cast<double>(p.value("lost_messages", int64_t{0})));
    const std::string risk = p.value("risk", "ok");
    at_risk += risk == "at_risk";
    lost += risk == "lost";
    live.push_back(std::move(labels));
  }
  reg.retain(kHeadroom, live);
  reg.retain(kLost, live);
  const bool known = !retention.contains("error");
  // Counts are only meaningful when the groups could be read.
  reg.retain("fp_kafka_group_partitions_at_risk",
             known ? std::vector<metrics::Labels>{{}} : std::vector<metrics::Labels>{});
  reg.retain("fp_kafka_group_partitions_lost",
             known ? std::vector<metrics::Labels>{{}} : std::vector<metrics::Labels>{});
  if (!known) return;
  reg.gauge("fp_kafka_group_partitions_at_risk",
            "Group partitions whose lag is over 80 % of a partition being trimmed by retention")
      .set(at_risk);
  reg.gauge("fp_kafka_group_partitions_lost",
            "Group partitions whose committed offset is below the low watermark")
      .set(lost);
}

}  // namespace

void publish_overview_metrics(const nlohmann::json& overview, metrics::Registry& registry) {
  publish_disk(overview.value("storage", nlohmann::json::object()), registry);
  publish_retention(overview.value("kafka_retention", nlohmann::json::object()), registry);
}

}  // namespace fp::console
