// The batch page's "Warehouse raw detail" (retain/raw_days.h): the retention and the raw days dropped, beside
// the hot window's drops, every value escaped.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "console/html.h"

namespace fp::console {
namespace {

using json = nlohmann::json;

std::string page_with(json retention) {
  json batch = {{"retention", std::move(retention)}, {"requests", {{"open", 0}, {"oldest", ""}}}};
  json runs = {{"runs", json::array()}, {"limit", 20}, {"next_before", nullptr}};
  return html::batch(batch, runs, "t", "");
}

TEST(ConsoleRawRetention, KeptForEverUntilARetentionIsSet) {
  const std::string page = page_with({{"hot_window_minutes", 10080},
                                      {"partition_interval_minutes", 1440},
                                      {"raw_retention_minutes", nullptr},
                                      {"raw_drops", json::array()}});
  EXPECT_NE(page.find("data-raw-retention=\"all\""), std::string::npos);
  EXPECT_NE(page.find("No raw day dropped yet"), std::string::npos);
}

TEST(ConsoleRawRetention, DroppedDaysAreListedEscaped) {
  const std::string page = page_with({{"hot_window_minutes", 10080},
                                      {"partition_interval_minutes", 1440},
                                      {"raw_retention_minutes", 43200},
                                      {"raw_drops", json::array({{{"day", "2024-04-15"},
                                                                  {"partition", "trips_p20240415<script>"},
                                                                  {"rows", 86400},
                                                                  {"dropped_at", "2024-05-16 03:00:00"}}})}});
  EXPECT_NE(page.find("data-raw-retention=\"43200\""), std::string::npos);
  EXPECT_NE(page.find("data-raw-dropped=\"2024-04-15\""), std::string::npos);
  EXPECT_NE(page.find("86"), std::string::npos);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("trips_p20240415&lt;script&gt;"), std::string::npos);
}

}  // namespace
}  // namespace fp::console
