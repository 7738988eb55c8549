// The overview's Storage and retention cards and the groups page's retention columns: every value escaped,
// figures and problems shown, a failed measurement degrading only its own line.
#include <gtest/gtest.h>

#include "console/html.h"

namespace fp::console {
namespace {

using nlohmann::json;

const std::string kEvil = "<script>alert(1)</script>";

TEST(StorageHtml, CardsShowFiguresProblemsAndEscapeEverything) {
  json o = {{"taken_at_ms", 0},
            {"stack", {{"parts", json::array()}, {"all_healthy", true}}},
            {"services", json::array()},
            {"kafka_retention",
             {{"problems", json::array({"group " + kEvil + " lost 5 message(s) of trips[0]"})},
              {"lost", 1},
              {"at_risk", 0},
              {"errors", json::array({kEvil})}}},
            {"storage",
             {{"taken_at_ms", 0},
              {"filesystem", {{"path", kEvil}, {"total_bytes", 100}, {"used_bytes", 60}, {"free_bytes", 40}}},
              {"kafka", {{"topics", json::array({{{"name", kEvil}, {"bytes", 2048}, {"complete", false}}})}}},
              {"bucket", {{"bucket", "raw"}, {"error", kEvil}}},
              {"postgres", json::array({{{"server", "postgres-webapp"},
                                         {"databases", json::array({{{"name", "webapp"}, {"bytes", 4096}}})},
                                         {"wal_error", "permission denied"}}})}}}};
  const std::string html = html::overview_panels(o);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos) << html;
  EXPECT_NE(html.find("Storage"), std::string::npos);
  EXPECT_NE(html.find("2.0 KiB"), std::string::npos) << html;
  EXPECT_NE(html.find("&ge; 2.0 KiB"), std::string::npos) << html;  // a lower bound says so
  EXPECT_NE(html.find("postgres-webapp/webapp"), std::string::npos) << html;
  EXPECT_NE(html.find("40 B free"), std::string::npos) << html;
  EXPECT_NE(html.find("Not measured: postgres-webapp WAL: permission denied"), std::string::npos) << html;
  EXPECT_NE(html.find("1 partition(s) lost messages"), std::string::npos) << html;
}

TEST(StorageHtml, NoProblemSaysSoAndAFailedPanelSaysWhy) {
  json o = {{"taken_at_ms", 0},
            {"stack", {{"parts", json::array()}, {"all_healthy", true}}},
            {"services", json::array()},
            {"kafka_retention", {{"problems", json::array()}, {"errors", json::array()}}},
            {"storage", {{"error", "cannot load the configuration"}}}};
  const std::string html = html::overview_panels(o);
  EXPECT_NE(html.find("No consumer group is near the start"), std::string::npos) << html;
  EXPECT_NE(html.find("cannot load the configuration"), std::string::npos) << html;
}

TEST(StorageHtml, GroupsPageShowsWhereEachGroupStandsInTheRetainedRange) {
  json g = {{"groups", json::array({{{"group", kEvil},
                                     {"state", "Stable"},
                                     {"members", 1},
                                     {"lag", 10},
                                     {"retention_risk", "lost"},
                                     {"partitions", json::array({{{"topic", kEvil},
                                                                  {"partition", 0},
                                                                  {"committed", 5},
                                                                  {"low", 10},
                                                                  {"high", 20},
                                                                  {"lag", 15},
                                                                  {"risk", "lost"},
                                                                  {"headroom_ratio", 0.0},
                                                                  {"lost_messages", 5}},
                                                                 {{"topic", "t"},
                                                                  {"partition", 1},
                                                                  {"committed", 11},
                                                                  {"low", 10},
                                                                  {"high", 20},
                                                                  {"lag", 9},
                                                                  {"risk", "at_risk"},
                                                                  {"headroom_ratio", 0.1},
                                                                  {"lost_messages", 0}}})}}})}};
  const std::string html = html::groups(g);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos) << html;
  EXPECT_NE(html.find("Low watermark"), std::string::npos);
  EXPECT_NE(html.find("badge bad\">lost</span> 5 message(s)"), std::string::npos) << html;
  EXPECT_NE(html.find("badge warn\">at risk"), std::string::npos) << html;
  EXPECT_NE(html.find(">10 %<"), std::string::npos) << html;
}

}  // namespace
}  // namespace fp::console
