#include "realtime/source_watch.h"

#include <gtest/gtest.h>

namespace fp::realtime {
namespace {

using namespace std::chrono_literals;
using Clock = SourceWatch::Clock;

TEST(SourceWatch, AQuietSourceIsNeverStalled) {
  SourceWatch w(30s);
  const auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i) w.observe("100", 7, t0 + i * 5s);
  EXPECT_FALSE(w.stalled(t0 + 100s));
  EXPECT_EQ(w.pending_for(t0 + 100s), 0ms);
}

TEST(SourceWatch, AChangeWithoutAnEventStallsAfterTheLimit) {
  SourceWatch w(30s);
  const auto t0 = Clock::now();
  w.observe("100", 7, t0);
  w.observe("101", 7, t0 + 5s);  // the source wrote; nothing arrived
  EXPECT_EQ(w.pending_for(t0 + 20s), 15s);
  EXPECT_FALSE(w.stalled(t0 + 34s));
  w.observe("102", 7, t0 + 35s);  // more writes keep the oldest pending one's age
  EXPECT_TRUE(w.stalled(t0 + 35s));
  // Events flow again: healthy.
  w.observe("102", 9, t0 + 40s);
  EXPECT_FALSE(w.stalled(t0 + 40s));
}

TEST(SourceWatch, AChangeDeliveredBeforeTheLookThatSawItIsNotPending) {
  // A single insert whose event arrived within the same interval: the source then stays quiet.
  SourceWatch w(30s);
  const auto t0 = Clock::now();
  w.observe("100", 7, t0);
  w.observe("101", 8, t0 + 5s);
  EXPECT_EQ(w.pending_for(t0 + 60s), 0ms);
}

TEST(SourceWatch, TheFirstLookOnlyRemembers) {
  SourceWatch w(30s);
  const auto t0 = Clock::now();
  w.observe("100", 0, t0);
  EXPECT_FALSE(w.stalled(t0 + 1h));
}

}  // namespace
}  // namespace fp::realtime
