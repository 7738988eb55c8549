// Warehouse freshness: the state a lag is judged to be in, and the lag that grows between builds.
#include "scheduler/freshness.h"

#include <gtest/gtest.h>

namespace fp::sched {
namespace {

TEST(Freshness, StateFollowsTheThresholds) {
  const FreshnessThresholds t{std::chrono::seconds(120), std::chrono::seconds(300)};
  EXPECT_EQ(freshness_state(std::nullopt, t), "unknown");
  EXPECT_EQ(freshness_state(0, t), "ok");
  EXPECT_EQ(freshness_state(119.9, t), "ok");
  EXPECT_EQ(freshness_state(120, t), "warn");
  EXPECT_EQ(freshness_state(299, t), "warn");
  EXPECT_EQ(freshness_state(300, t), "error");
}

TEST(Freshness, LagGrowsUntilTheNextBuildAndTheAsOfNeverMovesBack) {
  metrics::Registry reg;
  Freshness f(reg, {std::chrono::seconds(120), std::chrono::seconds(300)});
  f.tick(1000);
  EXPECT_EQ(f.describe(1000)["state"], "unknown");
  EXPECT_FALSE(f.describe(1000).contains("lag_seconds"));
  f.built(900);
  EXPECT_DOUBLE_EQ(f.describe(1000)["lag_seconds"].get<double>(), 100);
  EXPECT_EQ(f.describe(1000)["state"], "ok");
  EXPECT_EQ(f.describe(1100)["state"], "warn");
  EXPECT_EQ(f.describe(1200)["state"], "error");
  f.built(800);  // an older as-of (a build that saw less) does not make the marts look older
  EXPECT_DOUBLE_EQ(f.describe(1000)["as_of"].get<double>(), 900);
  f.built(990);
  f.tick(1000);
  const std::string text = reg.render();
  EXPECT_NE(text.find("fleetpipe_scheduler_warehouse_freshness_seconds 10"), std::string::npos) << text;
  EXPECT_NE(text.find("fleetpipe_scheduler_warehouse_source_as_of_timestamp_seconds 990"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace fp::sched
