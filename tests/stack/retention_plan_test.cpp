#include "stack/retention_plan.h"

#include <gtest/gtest.h>

namespace fp::stack {
namespace {

TEST(RetentionPlanTest, SegmentsAreAQuarterOfThePartitionShareAndSmallerThanRetention) {
  const auto r = retention_for_share(400 * kMiB);
  EXPECT_EQ(r.segment_bytes, 100 * kMiB);
  EXPECT_EQ(r.retention_bytes, 300 * kMiB);
  // Kafka deletes whole closed segments only: with segments at or above retention.bytes it would delete
  // nothing until the active one alone reached the bound.
  for (int64_t share : {kMinPartitionShare, 5 * kMiB, 37 * kMiB, 1 * kGiB, 20 * kGiB}) {
    const auto x = retention_for_share(share);
    EXPECT_LT(x.segment_bytes, x.retention_bytes) << share;
    EXPECT_EQ(x.segment_bytes + x.retention_bytes, share) << share;  // the partition stays within its share
    EXPECT_GE(x.segment_bytes, kMinSegmentBytes) << share;
    EXPECT_LE(x.segment_bytes, kMaxSegmentBytes) << share;
    EXPECT_EQ(x.segment_bytes % kMiB, 0) << share;
  }
  EXPECT_EQ(retention_for_share(20 * kGiB).segment_bytes, kMaxSegmentBytes);  // the broker's size at most
  EXPECT_EQ(retention_for_share(kMinPartitionShare).segment_bytes, kMinSegmentBytes);
}

TEST(RetentionPlanTest, SplitsTheBudgetByWeightThenByPartition) {
  const auto split = split_budget(10 * kGiB, {{"trips", 3, 40}, {"cdc", 3, 40}, {"small", 1, 20}});
  ASSERT_TRUE(split.ok()) << split.error().message;
  ASSERT_EQ(split->size(), 3u);
  EXPECT_EQ((*split)[0].name, "trips");
  EXPECT_EQ((*split)[0].topic_bytes, 4 * kGiB);
  EXPECT_EQ((*split)[0].partition_bytes, 4 * kGiB / 3 / kMiB * kMiB);  // whole MiB
  EXPECT_EQ((*split)[2].topic_bytes, 2 * kGiB);
  EXPECT_EQ((*split)[2].partition_bytes, 2 * kGiB);
  int64_t on_disk = 0;
  for (const auto& t : *split)
    on_disk += (t.retention.retention_bytes + t.retention.segment_bytes) * t.partitions;
  EXPECT_LE(on_disk, 10 * kGiB);             // every partition at its bound still fits the budget
  EXPECT_GT(on_disk, 10 * kGiB - 8 * kMiB);  // and little of it is left unused by rounding
}

TEST(RetentionPlanTest, ABudgetTooSmallForAPartitionNamesTheTopicAndWhatWouldFit) {
  const auto split = split_budget(64 * kMiB, {{"big", 3, 90}, {"tiny", 2, 10}});
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.error().kind, Error::Kind::kInvalidInput);
  EXPECT_NE(split.error().message.find("tiny"), std::string::npos) << split.error().message;
  // tiny needs 2 × 4 MiB at 10 % of the budget: 80 MiB.
  EXPECT_NE(split.error().message.find("80 MiB"), std::string::npos) << split.error().message;
  EXPECT_TRUE(split_budget(80 * kMiB, {{"big", 3, 90}, {"tiny", 2, 10}}).ok());
}

TEST(RetentionPlanTest, RefusesClaimsWithoutWeightOrPartitions) {
  EXPECT_FALSE(split_budget(kGiB, {{"t", 1, 0}}).ok());
  EXPECT_FALSE(split_budget(kGiB, {{"t", 0, 1}}).ok());
}

TEST(RetentionPlanTest, DefaultBudgetIsAQuarterOfWhatKafkaCouldHaveInSteps) {
  EXPECT_EQ(default_kafka_budget(40 * kGiB, 0), 10 * kGiB);
  // What Kafka holds counts as available to it: filling its share does not shrink the budget.
  EXPECT_EQ(default_kafka_budget(30 * kGiB, 10 * kGiB), 10 * kGiB);
  // 256 MiB steps, so a little more or less free space alters nothing.
  EXPECT_EQ(default_kafka_budget(40 * kGiB + 100 * kMiB, 0), 10 * kGiB);
  EXPECT_EQ(default_kafka_budget(kGiB, 0), 512 * kMiB);        // floor
  EXPECT_EQ(default_kafka_budget(1000 * kGiB, 0), 64 * kGiB);  // cap
  EXPECT_EQ(default_kafka_budget(-1, -1), 512 * kMiB);
}

}  // namespace
}  // namespace fp::stack
