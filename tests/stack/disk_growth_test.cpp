#include "stack/disk_growth.h"

#include <gtest/gtest.h>

#include "stack/retention_plan.h"

namespace fp::stack {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

DiskSample sample(int64_t at_ms, std::map<std::string, int64_t> bytes) {
  return DiskSample{at_ms, std::move(bytes)};
}

GrowthInputs inputs(int64_t free_bytes) {
  GrowthInputs in;
  in.free_bytes = free_bytes;
  in.kafka_budget = 10 * kGiB;
  in.horizon_ms = 7 * kDayMs;
  in.topics["trips"] = TopicBound{7 * kDayMs, 3 * kGiB};
  return in;
}

bool any_contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

TEST(DiskGrowthTest, NothingToSayWhenEverythingFits) {
  const auto before = sample(1, {{"state_dir:kafka", 10 * kGiB}, {"state_dir:postgres", kGiB}});
  const auto now = sample(1 + kDayMs, {{"state_dir:kafka", 10 * kGiB}, {"state_dir:postgres", kGiB + kGiB}});
  // PostgreSQL grows 1 GiB a day: 7 GiB over the horizon, 100 GiB free.
  EXPECT_TRUE(growth_warnings(before, now, inputs(100 * kGiB)).empty());
}

TEST(DiskGrowthTest, TheDiskFillingWithinTheHorizonIsSaidWithWhen) {
  const auto before = sample(1, {{"state_dir:kafka", 10 * kGiB}, {"state_dir:postgres", kGiB}});
  const auto now = sample(1 + kDayMs, {{"state_dir:kafka", 10 * kGiB}, {"state_dir:postgres", 3 * kGiB}});
  // 2 GiB a day, 7 days: 14 GiB needed, 5 GiB free: full in 2.5 days.
  const auto w = growth_warnings(before, now, inputs(5 * kGiB));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("fills in about 2.5 day(s)"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("2.0 GiB/day"), std::string::npos) << w[0];
}

TEST(DiskGrowthTest, KafkasRemainingGrowthCountsAgainstFreeSpaceWithoutARate) {
  // Kafka holds 2 GiB of its 10 GiB budget; 5 GiB free: no rate needed to see it cannot fit.
  const auto w = growth_warnings(DiskSample{}, sample(1, {{"state_dir:kafka", 2 * kGiB}}), inputs(5 * kGiB));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("Kafka may still grow by 8.0 GiB"), std::string::npos) << w[0];
}

TEST(DiskGrowthTest, ATopicWhoseTimeRetentionOutgrowsItsBoundIsSaid) {
  // trips grows 1 GiB a day: 7 days would need 7 GiB, its bound is 3 GiB: about 72 hours kept.
  const auto before = sample(1, {{"kafka_topic:trips", kGiB}, {"state_dir:kafka", 10 * kGiB}});
  const auto now = sample(1 + kDayMs, {{"kafka_topic:trips", 2 * kGiB}, {"state_dir:kafka", 10 * kGiB}});
  const auto w = growth_warnings(before, now, inputs(100 * kGiB));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(any_contains(w, "topic trips grows 1.0 GiB/day")) << w[0];
  EXPECT_TRUE(any_contains(w, "keeps about 72.0 hour(s)")) << w[0];
}

TEST(DiskGrowthTest, SamplesTooCloseTogetherGiveNoRate) {
  const auto before = sample(1, {{"state_dir:kafka", 10 * kGiB}, {"state_dir:postgres", kGiB}});
  const auto now = sample(1 + kMinSampleIntervalMs - 1,
                          {{"state_dir:kafka", 10 * kGiB}, {"state_dir:postgres", 50 * kGiB}});
  EXPECT_TRUE(growth_warnings(before, now, inputs(5 * kGiB)).empty());
}

TEST(DiskGrowthTest, SamplesComeFromCompleteFiguresAndRoundTrip) {
  const auto disk = nlohmann::json::parse(R"({"taken_at_ms": 42, "state_dir": {"parts": [
      {"name": "kafka", "bytes": 10, "complete": true}, {"name": "postgres", "bytes": 5, "complete": false}]}})");
  const auto s = sample_of(disk);
  EXPECT_EQ(s.taken_at_ms, 42);
  EXPECT_EQ(s.bytes, (std::map<std::string, int64_t>{{"state_dir:kafka", 10}}));
  const auto back = sample_from_json(to_json(s));
  EXPECT_EQ(back.taken_at_ms, 42);
  EXPECT_EQ(back.bytes, s.bytes);
  EXPECT_EQ(sample_from_json(nlohmann::json()).taken_at_ms, 0);
}

}  // namespace
}  // namespace fp::stack
