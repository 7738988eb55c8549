// Kafka's disk budget split into per-topic, per-partition retention (pure arithmetic; stack/kafka_budget.h
// gathers the inputs).
//
// How Kafka frees space decides the numbers. retention.bytes bounds one partition, not a topic. Kafka
// deletes whole segments only, never the active one (the segment being written), and only while what stays
// is still at least retention.bytes; so a partition holds between retention.bytes and retention.bytes +
// segment.bytes, plus what arrives between two retention checks (log.retention.check.interval.ms, 5 min in
// stack/conf/kafka-server.properties). With segment.bytes at or above retention.bytes nothing is deleted
// until the active segment alone reaches retention.bytes, and the partition grows to about twice the bound.
// So a partition's share S of the budget becomes segment.bytes = S/4 (whole MiB, at least Kafka's minimum of
// 1 MiB, at most the broker's 256 MiB) and retention.bytes = S - segment.bytes: the partition stays within
// S, and at least 3/4 of it is data a consumer can still read. Smaller segments would follow the bound more
// closely but cost open files and index memory per segment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace fp::stack {

inline constexpr int64_t kMiB = int64_t{1} << 20;
inline constexpr int64_t kGiB = int64_t{1} << 30;
// Kafka 4's minimum segment.bytes (KIP-1030).
inline constexpr int64_t kMinSegmentBytes = kMiB;
// log.segment.bytes in stack/conf/kafka-server.properties: no topic needs larger segments than the broker's.
inline constexpr int64_t kMaxSegmentBytes = 256 * kMiB;
// The smallest share a partition can have: one minimal segment being written, three retained.
inline constexpr int64_t kMinPartitionShare = 4 * kMinSegmentBytes;

struct PartitionRetention {
  int64_t retention_bytes = 0;
  int64_t segment_bytes = 0;
};

// The retention of a partition that may take `share` bytes (>= kMinPartitionShare).
PartitionRetention retention_for_share(int64_t share);

struct BudgetClaim {
  std::string name;
  int partitions = 1;
  double weight = 0;  // > 0
};

struct TopicBudget {
  std::string name;
  int partitions = 1;
  double weight = 0;
  int64_t topic_bytes = 0;      // its share of the budget, all partitions
  int64_t partition_bytes = 0;  // topic_bytes / partitions, whole MiB
  PartitionRetention retention;
};

// Splits `budget` between the claims in proportion to their weights, then each topic's share between its
// partitions. kInvalidInput when a partition's share would be below kMinPartitionShare; the message names
// the topic and the smallest budget that fits.
Result<std::vector<TopicBudget>> split_budget(int64_t budget, const std::vector<BudgetClaim>& claims);

// The budget when FLEETPIPE_KAFKA_DISK_BUDGET is not set: 25 % of what Kafka could have — the filesystem's
// free space plus what Kafka holds already, so the budget does not shrink each `up` as Kafka fills its own
// share — rounded down to 256 MiB (a little more free space is no reason to alter every topic), at least
// 512 MiB and at most 64 GiB.
int64_t default_kafka_budget(int64_t free_bytes, int64_t kafka_bytes);

}  // namespace fp::stack
