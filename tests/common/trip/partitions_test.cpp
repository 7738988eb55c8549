#include "common/trip/partitions.h"

#include <gtest/gtest.h>

namespace fp::trip {
namespace {

using Clock = PartitionMinutes::Clock;

TEST(PartitionMinutesTest, AsksForEachMinuteOnceAndAgainAfterItsMemoryFades) {
  PartitionMinutes m(std::chrono::seconds(60));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  // 2026-12-07 14:03:05, :59 and 14:04:00: two minutes.
  const std::vector<int64_t> times = {1796652185, 1796652239, 1796652240, 1796652185};
  auto due = m.due(times, t0);
  EXPECT_EQ(due.text, (std::vector<std::string>{"2026-12-07 14:03:00", "2026-12-07 14:04:00"}));
  EXPECT_EQ(due.minutes.size(), 2u);
  EXPECT_TRUE(m.due(times, t0 + std::chrono::seconds(59)).minutes.empty());
  EXPECT_EQ(m.due(times, t0 + std::chrono::seconds(60)).minutes.size(), 2u);
}

TEST(PartitionMinutesTest, AFailedCallIsAskedAgainAtOnce) {
  PartitionMinutes m;
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  const std::vector<int64_t> times = {0, 61};
  auto due = m.due(times, t0);
  ASSERT_EQ(due.text, (std::vector<std::string>{"1970-01-01 00:00:00", "1970-01-01 00:01:00"}));
  m.forget({due.minutes[1]});
  EXPECT_EQ(m.due(times, t0).text, (std::vector<std::string>{"1970-01-01 00:01:00"}));
}

TEST(PartitionMinutesTest, TimesBefore1970FallInTheMinuteThatHoldsThem) {
  PartitionMinutes m;
  const std::vector<int64_t> times = {-1, -60, -61};
  EXPECT_EQ(m.due(times).text, (std::vector<std::string>{"1969-12-31 23:59:00", "1969-12-31 23:58:00"}));
}

TEST(PartitionMinutesTest, ReplayingYearsOfHistoryKeepsABoundedMemory) {
  PartitionMinutes m(std::chrono::seconds(60));
  auto now = Clock::time_point{} + std::chrono::hours(1);
  for (int64_t minute = 0; minute < 100000; minute += 100) {
    std::vector<int64_t> times;
    for (int64_t k = 0; k < 100; ++k) times.push_back((minute + k) * 60);
    EXPECT_EQ(m.due(times, now).minutes.size(), 100u);
    now += std::chrono::seconds(1);
  }
  EXPECT_LE(m.remembered(), 4096u + 6000u);  // what the last minute of calls asked for, at most
}

}  // namespace
}  // namespace fp::trip
