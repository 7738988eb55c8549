// The loader's NDJSON row parser on hostile lines (an object in the bucket is written by whoever holds the
// bucket's keys): a line becomes one whole COPY row or an error, never half a row.
#include <gtest/gtest.h>

#include <algorithm>

#include "fuzz.h"
#include "load/ndjson_row.h"

namespace fp::batch {
namespace {

TEST(NdjsonRowFuzz, ALineIsAWholeRowOrAnErrorThatLeavesTheOutputAlone) {
  const std::vector<std::string> samples = {
      R"({"id":42,"vehicle_id":7,"trip_id":3,"measurement_sequence":1,"measurement_time":"2024-04-15 10:00:00",)"
      R"("latitude":40.5,"longitude":-73.25,"fuel_capacity":15,"distance_traveled":0.1,)"
      R"("fuel_remaining_percent":99.5,"fuel_remaining_gallon":14.925,"color":"red","_source_xid":1234})",
      R"({"id":7,"driver_id":3,"make":"Ford","model":"Transit","color":"white\tblue\\n","fuel_capacity":25,)"
      R"("created_at":"2024-04-15 10:00:00","_source_xid":99})"};
  const std::vector<std::string> dict = {
      "\"id\":", "\"color\":\"\\u0000\"",     "\\t", "\\\\", "\"_source_xid\":", "null", "[]",
      "{}",      "\"measurement_time\":\"x\""};
  const TableSpec& trips = *find_table("trips");
  const TableSpec& vehicles = *find_table("vehicles");
  const size_t n = fuzz::run(samples, dict, [&](const std::string& input) {
    for (const TableSpec* spec : {&trips, &vehicles}) {
      std::string line = input;
      const size_t len = line.size();
      line.append(simdjson::SIMDJSON_PADDING, ' ');
      NdjsonRowParser p(*spec);
      std::string out = "before\n";
      const auto st = p.parse(std::string_view(line.data(), len), line.size(), out);
      if (!st.ok()) {
        EXPECT_EQ(out, "before\n");
        EXPECT_FALSE(st.error().message.empty());
        continue;
      }
      // One row: the columns and _source_xid, tab-separated, one newline at the end, none inside.
      const std::string row = out.substr(7);
      ASSERT_FALSE(row.empty());
      EXPECT_EQ(row.back(), '\n');
      EXPECT_EQ(std::count(row.begin(), row.end(), '\n'), 1);
      EXPECT_EQ(static_cast<size_t>(std::count(row.begin(), row.end(), '\t')), spec->columns.size());
    }
  });
  EXPECT_GT(n, 10u);
}

}  // namespace
}  // namespace fp::batch
