#include "stack/retention_plan.h"

#include <algorithm>
#include <cmath>

namespace fp::stack {

PartitionRetention retention_for_share(int64_t share) {
  PartitionRetention r;
  r.segment_bytes = std::clamp(share / 4 / kMiB * kMiB, kMinSegmentBytes, kMaxSegmentBytes);
  r.retention_bytes = share - r.segment_bytes;
  return r;
}

Result<std::vector<TopicBudget>> split_budget(int64_t budget, const std::vector<BudgetClaim>& claims) {
  double total = 0;
  for (const auto& c : claims) {
    if (!(c.weight > 0) || c.partitions < 1)
      return invalid_input("topic {}: a disk share needs a weight above 0 and at least one partition",
                           c.name);
    total += c.weight;
  }
  std::vector<TopicBudget> out;
  for (const auto& c : claims) {
    TopicBudget t;
    t.name = c.name;
    t.partitions = c.partitions;
    t.weight = c.weight;
    t.topic_bytes = static_cast<int64_t>(std::floor(static_cast<double>(budget) * (c.weight / total)));
    t.partition_bytes = t.topic_bytes / c.partitions / kMiB * kMiB;
    if (t.partition_bytes < kMinPartitionShare) {
      const auto needed = static_cast<int64_t>(
          std::ceil(static_cast<double>(kMinPartitionShare) * c.partitions * total / c.weight));
      return invalid_input(
          "a Kafka disk budget of {} bytes gives topic {} {} bytes a partition, below the {} bytes one "
          "needs (one minimal segment written, three kept); the smallest budget that fits is {} MiB",
          budget, c.name, t.partition_bytes, kMinPartitionShare, (needed + kMiB - 1) / kMiB);
    }
    t.retention = retention_for_share(t.partition_bytes);
    out.push_back(std::move(t));
  }
  return out;
}

int64_t default_kafka_budget(int64_t free_bytes, int64_t kafka_bytes) {
  constexpr int64_t kStep = 256 * kMiB;
  const int64_t available = std::max<int64_t>(0, free_bytes) + std::max<int64_t>(0, kafka_bytes);
  const int64_t quarter = available / 4 / kStep * kStep;
  return std::clamp(quarter, 2 * kStep, 64 * kGiB);
}

}  // namespace fp::stack
