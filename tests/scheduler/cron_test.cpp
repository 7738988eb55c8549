#include "scheduler/cron.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace fp::sched {
namespace {

// Cron evaluates local time; the tests pin the zone to UTC so the expectations are plain.
class CronTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
  static std::chrono::system_clock::time_point at(int y, int mo, int d, int h, int mi, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
  }
  static std::chrono::system_clock::time_point next(const char* expr,
                                                    std::chrono::system_clock::time_point t) {
    auto c = CronExpr::parse(expr);
    EXPECT_TRUE(c.ok()) << (c ? "" : c.error().message);
    auto n = c->next_after(t);
    EXPECT_TRUE(n.ok()) << (n ? "" : n.error().message);
    return *n;
  }
};

TEST_F(CronTest, EveryMinuteIsTheNextWholeMinute) {
  EXPECT_EQ(next("*/1 * * * *", at(2024, 4, 15, 8, 1, 13)), at(2024, 4, 15, 8, 2));
  EXPECT_EQ(next("* * * * *", at(2024, 4, 15, 8, 1, 0)), at(2024, 4, 15, 8, 2));  // strictly after
  EXPECT_EQ(next("* * * * *", at(2024, 12, 31, 23, 59, 30)), at(2025, 1, 1, 0, 0));
}

TEST_F(CronTest, ListsRangesAndSteps) {
  EXPECT_EQ(next("5,35 * * * *", at(2024, 4, 15, 8, 6)), at(2024, 4, 15, 8, 35));
  EXPECT_EQ(next("5,35 * * * *", at(2024, 4, 15, 8, 35)), at(2024, 4, 15, 9, 5));
  EXPECT_EQ(next("0 9-17 * * *", at(2024, 4, 15, 17, 0)), at(2024, 4, 16, 9, 0));
  EXPECT_EQ(next("0 9-17/4 * * *", at(2024, 4, 15, 9, 0)), at(2024, 4, 15, 13, 0));
  EXPECT_EQ(next("0 9-17/4 * * *", at(2024, 4, 15, 13, 0)), at(2024, 4, 15, 17, 0));
  EXPECT_EQ(next("*/15 * * * *", at(2024, 4, 15, 8, 46)), at(2024, 4, 15, 9, 0));
  EXPECT_EQ(next("10/20 * * * *", at(2024, 4, 15, 8, 31)), at(2024, 4, 15, 8, 50));
}

TEST_F(CronTest, NamesForMonthsAndWeekdays) {
  // 2024-04-15 is a Monday.
  EXPECT_EQ(next("0 0 * * fri", at(2024, 4, 15, 12, 0)), at(2024, 4, 19, 0, 0));
  EXPECT_EQ(next("0 0 * * MON-wed", at(2024, 4, 17, 12, 0)), at(2024, 4, 22, 0, 0));
  EXPECT_EQ(next("0 0 1 jun *", at(2024, 4, 15, 12, 0)), at(2024, 6, 1, 0, 0));
  EXPECT_EQ(next("0 0 * * 7", at(2024, 4, 15, 12, 0)), at(2024, 4, 21, 0, 0));  // 7 is Sunday
}

TEST_F(CronTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 20th or any Monday: from Tuesday the 16th, the 20th (Saturday) comes before Monday the 22nd.
  EXPECT_EQ(next("0 0 20 * 1", at(2024, 4, 16, 0, 0)), at(2024, 4, 20, 0, 0));
  EXPECT_EQ(next("0 0 20 * 1", at(2024, 4, 20, 0, 0)), at(2024, 4, 22, 0, 0));
  // Only day-of-month restricted: the weekday "*" does not widen it.
  EXPECT_EQ(next("0 0 20 * *", at(2024, 4, 20, 0, 0)), at(2024, 5, 20, 0, 0));
}

TEST_F(CronTest, LeapDay) {
  EXPECT_EQ(next("0 0 29 2 *", at(2024, 3, 1, 0, 0)), at(2028, 2, 29, 0, 0));
}

TEST_F(CronTest, NeverMatchingIsAnError) {
  auto c = CronExpr::parse("0 0 31 2 *");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->next_after(at(2024, 1, 1, 0, 0)).ok());
}

TEST_F(CronTest, RejectsMalformedExpressions) {
  for (const char* bad : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                          "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * foo *",
                          "1,,2 * * * *", "1- * * * *", "*/x * * * *"}) {
    EXPECT_FALSE(CronExpr::parse(bad).ok()) << "accepted: '" << bad << "'";
  }
}

TEST_F(CronTest, MatchesChecksEveryField) {
  auto c = CronExpr::parse("30 8 15 4 *");
  ASSERT_TRUE(c.ok());
  std::tm tm{};
  tm.tm_year = 124;
  tm.tm_mon = 3;
  tm.tm_mday = 15;
  tm.tm_hour = 8;
  tm.tm_min = 30;
  tm.tm_wday = 1;
  EXPECT_TRUE(c->matches(tm));
  tm.tm_min = 31;
  EXPECT_FALSE(c->matches(tm));
}

}  // namespace
}  // namespace fp::sched
