// `up`'s look ahead: will the configured retention fit the disk at the rate the stores grow? The rate is the
// difference between two samples of the stores' sizes (stack/disk_report.h) taken by two `up`s at least 10
// minutes apart, kept in <state>/run/disk-sample.json: an average over that interval, so a stack that was
// down for part of it looks slower than it is, and the first `up` has no rate yet. From it:
//  - a Kafka topic whose rate × retention.ms is more than its bytes bound keeps less time than declared
//    (the bound deletes first): said, with the time it does keep;
//  - the disk: Kafka grows until its budget and then stays flat, the other stores (PostgreSQL, the bucket,
//    the logs) keep everything today and grow at their rate; when Kafka's remaining growth plus the others'
//    growth over the horizon (the longest declared retention.ms) exceeds the free space, `up` says when
//    the disk fills. Kafka's remaining growth alone exceeding the free space needs no rate and is said too.
// Warnings only: `up` never fails on an estimate.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stack/component.h"

namespace fp::stack {

// Sizes by "<store>:<name>" (disk_lines) at a time.
struct DiskSample {
  int64_t taken_at_ms = 0;
  std::map<std::string, int64_t> bytes;
};
DiskSample sample_of(const nlohmann::json& disk);
nlohmann::json to_json(const DiskSample& s);
DiskSample sample_from_json(const nlohmann::json& j);

struct TopicBound {
  int64_t retention_ms = 0;  // 0: none declared
  int64_t bound_bytes = 0;   // retention.bytes × partitions
};

struct GrowthInputs {
  int64_t free_bytes = 0;
  int64_t kafka_budget = 0;
  int64_t horizon_ms = 0;  // how long the other stores are expected to keep what they have
  std::map<std::string, TopicBound> topics;
};

inline constexpr int64_t kMinSampleIntervalMs = 10 * 60 * 1000;

// The warnings for `now` against `before` (before.taken_at_ms == 0: no earlier sample; rates are then not
// estimated, only what needs none).
std::vector<std::string> growth_warnings(const DiskSample& before, const DiskSample& now,
                                         const GrowthInputs& in);

// Measures the local stores, logs the warnings, and keeps the sample for the next `up`. Never fails.
void warn_disk_growth(const Context& ctx);

}  // namespace fp::stack
