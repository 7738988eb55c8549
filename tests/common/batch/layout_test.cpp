// The `trips` table of the batch lane is `id` and then the trip record's columns (common/trip), in order.
#include "common/batch/layout.h"

#include <gtest/gtest.h>

namespace fp::batch {
namespace {

TEST(BatchLayout, TripsAreIdThenTheTripRecordsColumns) {
  using K = ColumnKind;
  const TableSpec* t = find_table("trips");
  ASSERT_NE(t, nullptr);
  const std::vector<std::pair<std::string_view, K>> expected = {{"id", K::kInt64},
                                                                {"vehicle_id", K::kInt32},
                                                                {"trip_id", K::kInt32},
                                                                {"measurement_sequence", K::kInt32},
                                                                {"measurement_time", K::kTimestamp},
                                                                {"latitude", K::kFloat64},
                                                                {"longitude", K::kFloat64},
                                                                {"fuel_capacity", K::kFloat64},
                                                                {"distance_traveled", K::kFloat64},
                                                                {"fuel_remaining_percent", K::kFloat64},
                                                                {"fuel_remaining_gallon", K::kFloat64},
                                                                {"color", K::kText}};
  ASSERT_EQ(t->columns.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(t->columns[i].name, expected[i].first) << i;
    EXPECT_EQ(t->columns[i].kind, expected[i].second) << i;
  }
  EXPECT_EQ(t->date_column, "measurement_time");
}

}  // namespace
}  // namespace fp::batch
