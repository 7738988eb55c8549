// The console's own gauges on its /metrics, set from each overview it computes: each store's disk usage
// (fp_disk_bytes{store, name}) and each consumer group's position against Kafka's retained range
// (fp_kafka_group_retention_headroom_ratio and fp_kafka_group_lost_messages{group, topic, partition}). A
// series whose store or group is gone, or could not be read this time, stops being exported rather than
// repeating its last value.
#pragma once

#include <nlohmann/json.hpp>

#include "common/metrics.h"

namespace fp::console {

void publish_overview_metrics(const nlohmann::json& overview, metrics::Registry& registry);

}  // namespace fp::console
