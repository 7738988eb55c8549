#include "stack/restarts.h"

#include <gtest/gtest.h>

#include <set>

namespace fp::stack {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = RestartTracker::Clock;

RestartPolicy policy() {
  RestartPolicy p;
  p.base = milliseconds(1000);
  p.cap = milliseconds(8000);
  p.max_deaths = 5;
  p.window = seconds(120);
  p.stable_after = seconds(60);
  return p;
}

TEST(RestartTracker, DelaysDoubleWithJitterUpToTheCap) {
  std::mt19937_64 rng(1);
  RestartTracker t(policy());
  auto now = Clock::time_point{} + std::chrono::hours(1);
  // Deaths 31 s apart: never 5 within 120 s, never a run of 60 s, so the streak keeps growing.
  const int64_t full[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (int64_t f : full) {
    auto d = t.died(now, now - seconds(30), rng);
    ASSERT_TRUE(d) << "gave up at full delay " << f;
    EXPECT_GE(d->count(), f / 2);
    EXPECT_LE(d->count(), f);
    now += seconds(31);
  }
  EXPECT_EQ(t.restarts(), 6);
  EXPECT_FALSE(t.failed());
}

TEST(RestartTracker, JitterSpreadsPartsThatDiedTogether) {
  std::mt19937_64 rng(7);
  std::set<int64_t> seen;
  const auto now = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 20; ++i) {
    RestartTracker t(policy());
    seen.insert(t.died(now, now, rng)->count());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(RestartTracker, AStableRunStartsTheBackoffAgain) {
  std::mt19937_64 rng(2);
  RestartTracker t(policy());
  auto now = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(t.died(now, now - seconds(1), rng));
    now += seconds(50);
  }
  // Ran for 10 minutes before this death: back to the base delay.
  auto d = t.died(now, now - std::chrono::minutes(10), rng);
  ASSERT_TRUE(d);
  EXPECT_LE(d->count(), 1000);
}

TEST(RestartTracker, FiveDeathsInTwoMinutesFail) {
  std::mt19937_64 rng(3);
  RestartTracker t(policy());
  auto now = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(t.died(now, now - seconds(2), rng)) << "death " << i + 1;
    now += seconds(20);
  }
  EXPECT_FALSE(t.died(now, now - seconds(2), rng));
  EXPECT_TRUE(t.failed());
  EXPECT_EQ(t.restarts(), 4);
  EXPECT_EQ(t.recent_deaths(), 5);
}

TEST(RestartTracker, DeathsWhileAnotherPartIsDownBackOffButDoNotFail) {
  std::mt19937_64 rng(5);
  RestartTracker t(policy());
  auto now = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 10; ++i) {
    auto d = t.died(now, now - seconds(2), rng, /*count=*/false);
    ASSERT_TRUE(d) << "death " << i + 1;
    now += seconds(5);
  }
  EXPECT_FALSE(t.failed());
  EXPECT_EQ(t.recent_deaths(), 0);
  // Still backing off: the streak grew to the cap.
  EXPECT_GE(t.died(now, now - seconds(2), rng, false)->count(), 4000);
}

TEST(RestartTracker, DeathsOutsideTheWindowDoNotCount) {
  std::mt19937_64 rng(4);
  RestartTracker t(policy());
  auto now = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(t.died(now, now - seconds(2), rng)) << "death " << i + 1;
    now += seconds(31);  // at most 4 within any 120 s
  }
  EXPECT_FALSE(t.failed());
}

}  // namespace
}  // namespace fp::stack
