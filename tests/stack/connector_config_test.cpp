// The declared connector and topics must agree: Debezium's partition routing computes the partition from
// its own partition.topic.num, so a topic with another partition count would get events on partitions
// that do not exist, or never on some that do.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace fp::stack {
namespace {

using nlohmann::json;

json read_json(const char* path) {
  std::ifstream in(path);  // tests run in the source directory
  EXPECT_TRUE(in) << path;
  return json::parse(in, nullptr, false);
}

TEST(ConnectorConfig, TripChangesArePartitionedByVehicleOverEveryPartitionOfTheTopic) {
  const json connector = read_json("config/connectors/webapp-cdc.json");
  const json topics = read_json("config/topics.json");
  ASSERT_FALSE(connector.is_discarded());
  ASSERT_FALSE(topics.is_discarded());
  const json& c = connector["config"];
  ASSERT_EQ(c.value("transforms", ""), "byVehicle");
  EXPECT_EQ(c.value("transforms.byVehicle.type", ""), "io.debezium.transforms.partitions.PartitionRouting");
  EXPECT_EQ(c.value("transforms.byVehicle.partition.payload.fields", ""), "change.vehicle_id");
  // Applied to the trips topic only (vehicles and drivers are compacted by their key).
  EXPECT_EQ(c.value("predicates.isTrips.pattern", ""), "webapp\\.public\\.trips");

  int partitions = 0;
  for (const auto& t : topics["topics"]) {
    if (t["name"] == "webapp.public.trips") partitions = t.value("partitions", 1);
  }
  ASSERT_GT(partitions, 0) << "webapp.public.trips is not declared in config/topics.json";
  EXPECT_EQ(c.value("transforms.byVehicle.partition.topic.num", ""), std::to_string(partitions));
}

}  // namespace
}  // namespace fp::stack
