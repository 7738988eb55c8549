#include <gtest/gtest.h>

#include "console/html.h"
#include "console/token.h"
#include "console/views.h"

namespace fp::console {
namespace {

using nlohmann::json;

TEST(ConsoleToken, Checks) {
  EXPECT_EQ(check_operator_token("", "anything"), TokenCheck::kNotConfigured);
  EXPECT_EQ(check_operator_token("", ""), TokenCheck::kNotConfigured);
  EXPECT_EQ(check_operator_token("s3cret", ""), TokenCheck::kMissing);
  EXPECT_EQ(check_operator_token("s3cret", "s3cret"), TokenCheck::kOk);
  EXPECT_EQ(check_operator_token("s3cret", "s3cre"), TokenCheck::kWrong);
  EXPECT_EQ(check_operator_token("s3cret", "s3cret "), TokenCheck::kWrong);
  EXPECT_EQ(token_status(TokenCheck::kMissing), 401);
  EXPECT_EQ(token_status(TokenCheck::kWrong), 403);
  EXPECT_EQ(token_status(TokenCheck::kNotConfigured), 403);
  EXPECT_NE(token_message(TokenCheck::kNotConfigured).find("FLEETPIPE_CONSOLE_TOKEN"), std::string::npos);
}

TEST(ConsoleToken, BearerHeader) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer"), "");
  EXPECT_EQ(bearer_token("Bearerabc"), "");
}

TEST(ConsoleParse, ConnectorsFromConnectsExpandedListing) {
  const auto body = json::parse(R"({
    "webapp-cdc": {
      "info": {"name": "webapp-cdc", "type": "source",
               "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector"}},
      "status": {"name": "webapp-cdc", "type": "source",
                 "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083"},
                 "tasks": [{"id": 1, "state": "FAILED", "worker_id": "w2", "trace": "boom\n at x"},
                           {"id": 0, "state": "RUNNING", "worker_id": "w1"}]}}})");
  auto r = parse_connectors(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const auto& c = (*r)[0];
  EXPECT_EQ(c["name"], "webapp-cdc");
  EXPECT_EQ(c["state"], "RUNNING");
  EXPECT_EQ(c["class"], "io.debezium.connector.postgresql.PostgresConnector");
  EXPECT_EQ(c["worker_id"], "127.0.0.1:8083");
  ASSERT_EQ(c["tasks"].size(), 2u);
  EXPECT_EQ(c["tasks"][0]["id"], 0);  // sorted by id
  EXPECT_EQ(c["tasks"][1]["state"], "FAILED");
  EXPECT_EQ(c["tasks"][1]["trace"], "boom\n at x");
}

TEST(ConsoleParse, MalformedConnectorListingsAreErrors) {
  EXPECT_FALSE(parse_connectors(json::array()).ok());
  EXPECT_FALSE(parse_connectors(json::parse(R"({"x": {"status": {}}})")).ok());
  EXPECT_FALSE(parse_connectors(
                   json::parse(R"({"x": {"status": {"connector": {"state": "RUNNING"}, "tasks": [{}]}}})"))
                   .ok());
  auto empty = parse_connectors(json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ConsoleParse, DbtDetail) {
  auto r = parse_dbt_detail(json::parse(R"({"pass": 41, "fail": 1, "error": 0, "warn": 2})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["pass"], 41);
  EXPECT_EQ((*r)["fail"], 1);
  EXPECT_EQ((*r)["skip"], 0);  // missing counts are zero
  EXPECT_EQ((*r)["warn"], 2);
  EXPECT_FALSE(parse_dbt_detail(json::parse(R"({"pass": "many"})")).ok());
  EXPECT_FALSE(parse_dbt_detail(json::parse(R"({"fail": -1})")).ok());
  EXPECT_FALSE(parse_dbt_detail(json::array()).ok());
}

TEST(ConsoleParse, VerifyDetail) {
  auto r = parse_verify_detail(json::parse(R"({"stages": [
      {"table": "trips", "check": "source->bucket", "result": "PASS", "detail": "10 = 10"},
      {"table": "trips", "check": "bucket->warehouse", "result": "FAIL", "detail": {"missing": 3}}]})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["failed"], 1);
  EXPECT_EQ((*r)["stages"][1]["detail"], R"({"missing":3})");
  EXPECT_FALSE(parse_verify_detail(json::parse(R"({"stages": [{"result": "MAYBE"}]})")).ok());
  EXPECT_FALSE(parse_verify_detail(json::parse(R"({"stage": []})")).ok());
}

TEST(ConsoleHtml, EveryValueIsEscaped) {
  // A topic name, a message and a connector trace are data: none may become markup.
  const std::string evil = "<script>alert(1)</script>";
  json detail = {
      {"topic", evil},
      {"offsets", json::array({{{"partition", 0}, {"low", 0}, {"high", 1}, {"messages", 1}}})},
      {"tail",
       {{"partition", 0},
        {"requested", 1},
        {"from", 0},
        {"to", 1},
        {"complete", true},
        {"messages",
         json::array(
             {{{"offset", 0}, {"timestamp", "t"}, {"key", evil}, {"value", evil}, {"value_bytes", 25}}})}}}};
  const std::string page = html::topic(detail, 20);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // The topic's link percent-encodes the name.
  EXPECT_NE(page.find("/topics/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"), std::string::npos);

  json cdc = {{"connect",
               {{"connect_url", "http://x"},
                {"connectors", json::array({{{"name", evil},
                                             {"state", "FAILED"},
                                             {"type", "source"},
                                             {"class", "c"},
                                             {"worker_id", "w"},
                                             {"trace", evil},
                                             {"tasks", json::array()}}})}}},
              {"slots", {{"error", evil}}}};
  const std::string cdc_page = html::cdc(cdc, "tok\"en", "");
  EXPECT_EQ(cdc_page.find("<script>alert"), std::string::npos);
  EXPECT_NE(cdc_page.find("value=\"tok&quot;en\""), std::string::npos);
  EXPECT_NE(cdc_page.find("name=\"operator_token\""), std::string::npos);
}

TEST(ConsoleHtml, APanelErrorDegradesOnlyThatPanel) {
  json batch = {{"export", {{"error", "bucket unreachable"}}},
                {"load", {{"objects", 3}, {"rows", 30}}},
                {"dbt", nullptr},
                {"verify", nullptr},
                {"requests", {{"open", 0}, {"oldest", ""}}}};
  json runs = {{"runs", json::array()}, {"limit", 20}, {"next_before", nullptr}};
  const std::string page = html::batch(batch, runs, "t", "");
  EXPECT_NE(page.find("bucket unreachable"), std::string::npos);
  EXPECT_NE(page.find("3 object(s), 30 rows"), std::string::npos);
  EXPECT_NE(page.find("No runs recorded yet"), std::string::npos);
}

}  // namespace
}  // namespace fp::console
