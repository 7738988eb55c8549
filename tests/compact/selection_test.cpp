#include "compact/selection.h"

#include <gtest/gtest.h>

namespace fp::compact {
namespace {

using namespace std::chrono;

Source object(std::string key, int64_t bytes, batch::ObjectKind kind = batch::ObjectKind::kRows) {
  Source s;
  s.entry.key = std::move(key);
  s.entry.bytes = bytes;
  s.entry.kind = kind;
  return s;
}

TEST(DayClosed, ADayClosesOnceTheGraceAfterItsEndHasPassed) {
  const auto midnight = sys_days(year(2026) / December / 8);  // 2026-12-07 ends here
  EXPECT_EQ(day_closed("2026-12-07", hours(1), midnight + minutes(59)), false);
  EXPECT_EQ(day_closed("2026-12-07", hours(1), midnight + hours(1)), true);
  EXPECT_EQ(day_closed("2026-12-08", hours(1), midnight + hours(2)), false);  // today
  EXPECT_EQ(day_closed("2024-02-29", minutes(1), midnight), true);
  EXPECT_EQ(day_closed("2026-02-30", minutes(1), midnight), std::nullopt);  // no such day
  EXPECT_EQ(day_closed("2026-1-07", minutes(1), midnight), std::nullopt);
  EXPECT_EQ(day_closed("../../etc", minutes(1), midnight), std::nullopt);
}

TEST(ChooseInputs, SmallObjectsOfAKindWithTwoOrMoreInKeyOrder) {
  const int64_t target = 100;
  auto chosen = choose_inputs({object("c", 10), object("a", 49), object("big", 50), object("b", 1),
                               object("d1", 5, batch::ObjectKind::kDeletes)},
                              target);
  ASSERT_EQ(chosen.size(), 3u);  // "big" is at half the target; one tombstone object alone stays
  EXPECT_EQ(chosen[0].entry.key, "a");
  EXPECT_EQ(chosen[1].entry.key, "b");
  EXPECT_EQ(chosen[2].entry.key, "c");
  // A late object beside a day's large objects: nothing to gain yet.
  EXPECT_TRUE(choose_inputs({object("late", 3), object("large1", 90), object("large2", 99)}, target).empty());
  auto both = choose_inputs({object("r1", 1), object("r2", 1), object("d1", 1, batch::ObjectKind::kDeletes),
                             object("d2", 1, batch::ObjectKind::kDeletes)},
                            target);
  EXPECT_EQ(both.size(), 4u);
}

TEST(LeadingId, ReadsTheIdExportWritesFirst) {
  EXPECT_EQ(leading_id(R"({"id":42,"vehicle_id":7})"), 42);
  EXPECT_EQ(leading_id(R"({"id":9})"), 9);
  EXPECT_EQ(leading_id(R"({"id":-3,"day":"2024-01-01"})"), -3);
  EXPECT_EQ(leading_id(R"({"vehicle_id":7,"id":42})"), std::nullopt);
  EXPECT_EQ(leading_id(R"({"id":"42"})"), std::nullopt);
  EXPECT_EQ(leading_id(R"({"id":42)"), std::nullopt);
  EXPECT_EQ(leading_id(R"({"id":42x})"), std::nullopt);
  EXPECT_EQ(leading_id(""), std::nullopt);
}

}  // namespace
}  // namespace fp::compact
