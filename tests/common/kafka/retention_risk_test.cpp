#include "common/kafka/retention_risk.h"

#include <gtest/gtest.h>

namespace fp::kafka {
namespace {

TEST(RetentionRiskTest, BehindTheLowWatermarkIsLost) {
  const auto v = assess_retention(/*committed=*/300, /*low=*/1500, /*high=*/5000);
  EXPECT_EQ(v.risk, RetentionRisk::kLost);
  EXPECT_EQ(v.lost_messages, 1200);
  EXPECT_EQ(v.headroom_ratio, 0.0);
  EXPECT_EQ(v.lag, 4700);
}

TEST(RetentionRiskTest, LagOverEightyPercentOfATrimmedPartitionIsAtRisk) {
  // Retained [1000, 2000): the group has read 10 % of it; the next deletion takes what it has not read.
  const auto v = assess_retention(1100, 1000, 2000);
  EXPECT_EQ(v.risk, RetentionRisk::kAtRisk);
  EXPECT_DOUBLE_EQ(v.headroom_ratio, 0.1);
  EXPECT_EQ(v.lost_messages, 0);
  EXPECT_EQ(v.lag, 900);
  // At exactly 80 % it is not yet.
  EXPECT_EQ(assess_retention(1200, 1000, 2000).risk, RetentionRisk::kOk);
  EXPECT_EQ(assess_retention(1199, 1000, 2000).risk, RetentionRisk::kAtRisk);
  // The threshold is a parameter.
  EXPECT_EQ(assess_retention(1400, 1000, 2000, 0.5).risk, RetentionRisk::kAtRisk);
}

TEST(RetentionRiskTest, APartitionNeverTrimmedPutsNobodyAtRisk) {
  // low 0: nothing was ever deleted, so a group at the start loses nothing until the limits are reached.
  const auto v = assess_retention(0, 0, 1000);
  EXPECT_EQ(v.risk, RetentionRisk::kOk);
  EXPECT_DOUBLE_EQ(v.headroom_ratio, 0.0);
  EXPECT_EQ(v.lag, 1000);
}

TEST(RetentionRiskTest, NothingToLose) {
  EXPECT_EQ(assess_retention(-1, 500, 1000).risk, RetentionRisk::kOk);  // nothing committed
  EXPECT_EQ(assess_retention(-1, 500, 1000).lag, 0);
  const auto caught_up = assess_retention(1000, 500, 1000);
  EXPECT_EQ(caught_up.risk, RetentionRisk::kOk);
  EXPECT_DOUBLE_EQ(caught_up.headroom_ratio, 1.0);
  // An emptied partition: committed at the end, low == high.
  EXPECT_EQ(assess_retention(800, 800, 800).risk, RetentionRisk::kOk);
  // Committed past the end (a recreated topic): no lag, nothing lost.
  EXPECT_EQ(assess_retention(9000, 800, 1000).lag, 0);
}

TEST(RetentionRiskTest, Names) {
  EXPECT_EQ(risk_name(RetentionRisk::kOk), "ok");
  EXPECT_EQ(risk_name(RetentionRisk::kAtRisk), "at_risk");
  EXPECT_EQ(risk_name(RetentionRisk::kLost), "lost");
}

}  // namespace
}  // namespace fp::kafka
