#include "retain/raw_days.h"

#include <gtest/gtest.h>

namespace fp::retain {
namespace {

// Everything that allows a raw partition past the retention to go.
RawPartitionFacts all_clear() {
  RawPartitionFacts f;
  f.source_holds_rows = false;
  f.runs_caught_up = true;
  f.marts_built = true;
  f.consumed = true;
  return f;
}

TEST(RawDaysTest, APartitionGoesOnlyWhenEveryConditionHolds) {
  EXPECT_EQ(raw_keep_reason(all_clear()), "");
  // Nothing established (no run caught up, no marts): it stays.
  EXPECT_NE(raw_keep_reason(RawPartitionFacts{}), "");
}

TEST(RawDaysTest, EachMissingConditionKeepsThePartitionAndSaysWhy) {
  auto source = all_clear();
  source.source_holds_rows = true;
  EXPECT_NE(raw_keep_reason(source).find("source still holds rows"), std::string::npos);
  auto runs = all_clear();
  runs.runs_caught_up = false;
  EXPECT_NE(raw_keep_reason(runs).find("not all loaded"), std::string::npos);
  auto marts = all_clear();
  marts.marts_built = false;
  EXPECT_NE(raw_keep_reason(marts).find("not been built"), std::string::npos);
  auto consumed = all_clear();
  consumed.consumed = false;
  EXPECT_NE(raw_keep_reason(consumed).find("not consumed"), std::string::npos);
}

}  // namespace
}  // namespace fp::retain
