#include "retain/hot_window.h"

#include <gtest/gtest.h>

namespace fp::retain {
namespace {

using std::chrono::minutes;

TEST(RetainTest, APartitionThatDiffersIsComparedAgainAfterADoublingPause) {
  EXPECT_EQ(retry_pause(1, minutes(5), minutes(360)), minutes(5));
  EXPECT_EQ(retry_pause(2, minutes(5), minutes(360)), minutes(10));
  EXPECT_EQ(retry_pause(4, minutes(5), minutes(360)), minutes(40));
  EXPECT_EQ(retry_pause(7, minutes(5), minutes(360)), minutes(320));
  EXPECT_EQ(retry_pause(8, minutes(5), minutes(360)), minutes(360));
  EXPECT_EQ(retry_pause(1000, minutes(5), minutes(360)), minutes(360));
}

}  // namespace
}  // namespace fp::retain
