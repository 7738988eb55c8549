#include "generator/pacing.h"

#include <gtest/gtest.h>
#include <time.h>

#include <thread>

#include "common/shutdown.h"

namespace fp::gen {
namespace {

using std::chrono::microseconds;
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

nanoseconds thread_cpu() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return seconds(t.tv_sec) + nanoseconds(t.tv_nsec);
}

TEST(Pacing, ShortWaitsSleepInsteadOfSpinning) {
  // 400 rows at 2 000 rows/s, every wait under a millisecond: no row goes before its time, and waiting
  // costs the thread a small part of the wall time (a yield loop here cost all of it).
  Pacer p(Pacing{.mode = Pacing::Mode::kRate, .rate = 2000});
  const auto start = Pacer::Clock::now();
  const auto cpu_start = thread_cpu();
  for (uint64_t i = 0; i < 400; ++i) {
    const auto target = start + *p.due(i, 0);
    ASSERT_TRUE(wait_until(target));
    ASSERT_GE(Pacer::Clock::now(), target) << "row " << i;
  }
  const auto wall = Pacer::Clock::now() - start;
  const auto cpu = thread_cpu() - cpu_start;
  EXPECT_GE(wall, microseconds(199500));
  EXPECT_LT(cpu, wall / 4) << "CPU " << cpu.count() << " ns over " << nanoseconds(wall).count()
                           << " ns of wall";
}

TEST(Pacing, AShutdownEndsALongWait) {
  shutdown::reset_for_tests();
  std::thread stopper([] {
    std::this_thread::sleep_for(milliseconds(50));
    shutdown::request();
  });
  const auto start = Pacer::Clock::now();
  EXPECT_FALSE(wait_until(start + seconds(30)));
  EXPECT_LT(Pacer::Clock::now() - start, seconds(5));
  stopper.join();
  shutdown::reset_for_tests();
}

}  // namespace
}  // namespace fp::gen
