// FLEETPIPE_KAFKA_DISK_BUDGET: unset means the default worked out at `up`; set, it must be a size.
#include <gtest/gtest.h>

#include "common/config.h"

namespace fp {
namespace {

Config::Lookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigKafkaBudgetTest, UnsetMeansTheDefault) {
  auto c = Config::load(env_of({}));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->kafka_disk_budget.has_value());
  EXPECT_TRUE(c->to_json()["kafka_disk_budget_bytes"].is_null());
}

TEST(ConfigKafkaBudgetTest, AcceptsSizesWithUnits) {
  auto c = Config::load(env_of({{"FLEETPIPE_KAFKA_DISK_BUDGET", "20GiB"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->kafka_disk_budget, int64_t{20} << 30);
  EXPECT_EQ(c->to_json()["kafka_disk_budget_bytes"], int64_t{20} << 30);
}

TEST(ConfigKafkaBudgetTest, RefusesWhatIsNotAPositiveSize) {
  for (const char* bad : {"lots", "0", "-5GiB", "20 GB of disk"}) {
    auto c = Config::load(env_of({{"FLEETPIPE_KAFKA_DISK_BUDGET", bad}}));
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().kind, Error::Kind::kInvalidInput) << bad;
    EXPECT_NE(c.error().message.find("FLEETPIPE_KAFKA_DISK_BUDGET"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace fp
