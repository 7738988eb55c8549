#include "generator/pacing.h"

#include <gtest/gtest.h>

namespace fp::gen {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(Pacing, BulkIsNeverDelayed) {
  Pacer p(Pacing{.mode = Pacing::Mode::kBulk});
  EXPECT_FALSE(p.due(0, 0).has_value());
  EXPECT_FALSE(p.due(1000000, 5).has_value());
}

TEST(Pacing, IntervalIsAbsolute) {
  Pacer p(Pacing{.mode = Pacing::Mode::kInterval, .interval_s = 0.25});
  EXPECT_EQ(*p.due(0, 0), nanoseconds(0));
  EXPECT_EQ(*p.due(1, 0), milliseconds(250));
  EXPECT_EQ(*p.due(400, 0), seconds(100));
}

TEST(Pacing, Rate) {
  Pacer p(Pacing{.mode = Pacing::Mode::kRate, .rate = 200});
  EXPECT_EQ(*p.due(0, 0), nanoseconds(0));
  EXPECT_EQ(*p.due(1, 0), milliseconds(5));
  EXPECT_EQ(*p.due(6000, 0), seconds(30));  // 6000 rows at 200/s: 30 s, no drift
}

TEST(Pacing, SpeedupFollowsTimestamps) {
  Pacer p(Pacing{.mode = Pacing::Mode::kSpeedup, .speedup = 60});
  EXPECT_EQ(*p.due(0, 1000), nanoseconds(0));
  EXPECT_EQ(*p.due(1, 1060), seconds(1));  // a minute of measurements in a second
  EXPECT_EQ(*p.due(2, 1060), seconds(1));  // same timestamp, same moment
  EXPECT_EQ(*p.due(3, 1030), seconds(1));  // backwards: at once, never before the previous row
  EXPECT_EQ(*p.due(4, 1000 + 3600), seconds(60));
}

}  // namespace
}  // namespace fp::gen
