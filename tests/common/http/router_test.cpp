#include "common/http/router.h"

#include <gtest/gtest.h>

#include "common/http/sse.h"

namespace fp::httpd {
namespace {

TEST(HttpRouterTest, AcceptEncoding) {
  EXPECT_TRUE(accepts_encoding("gzip, deflate, br, zstd", "gzip"));  // Chromium's
  EXPECT_TRUE(accepts_encoding("GZIP", "gzip"));
  EXPECT_TRUE(accepts_encoding("br;q=1.0, gzip;q=0.8, *;q=0.1", "gzip"));
  EXPECT_TRUE(accepts_encoding("*", "gzip"));
  EXPECT_FALSE(accepts_encoding("", "gzip"));
  EXPECT_FALSE(accepts_encoding("identity", "gzip"));
  EXPECT_FALSE(accepts_encoding("gzip;q=0", "gzip"));
  EXPECT_FALSE(accepts_encoding("gzip; q=0.000, *", "gzip"));  // named refusal beats the wildcard
  EXPECT_FALSE(accepts_encoding("*;q=0", "gzip"));
  EXPECT_FALSE(accepts_encoding("x-gzip", "gzip"));
}

TEST(HttpRouterTest, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  EXPECT_EQ(percent_decode("abc%2", false), std::nullopt);
  EXPECT_EQ(percent_decode("abc%", false), std::nullopt);
}

TEST(HttpRouterTest, QueryParsing) {
  auto q = parse_query("from=2024-01-01&tag=a%20b&tag=c+d&flag&&x=");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->count("tag"), 2u);
  EXPECT_EQ(q->find("from")->second, "2024-01-01");
  EXPECT_EQ(q->lower_bound("tag")->second, "a b");
  EXPECT_EQ(std::next(q->lower_bound("tag"))->second, "c d");
  EXPECT_EQ(q->find("flag")->second, "");
  EXPECT_EQ(q->find("x")->second, "");
  EXPECT_FALSE(parse_query("a=%G0"));
}

TEST(HttpRouterTest, SplitPathDecodesPerSegment) {
  EXPECT_EQ(split_path("/"), std::vector<std::string>{});
  EXPECT_EQ(split_path("/a/b%2Fc/"), (std::vector<std::string>{"a", "b/c", ""}));
  EXPECT_FALSE(split_path("relative"));
  EXPECT_FALSE(split_path("/bad%"));
}

Response named(std::string name) {
  return Response::text(200, std::move(name));
}

TEST(HttpRouterTest, MatchesParamsSpecificityAndMethods) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/api/vehicles/{id}/trips", [](const Request&) { return named("trips"); }).ok());
  ASSERT_TRUE(
      r.add("GET", "/api/vehicles/latest/trips", [](const Request&) { return named("latest"); }).ok());
  ASSERT_TRUE(r.add("POST", "/api/vehicles/{id}/trips", [](const Request&) { return named("post"); }).ok());
  ASSERT_TRUE(r.add("GET", "/files/{rest*}", [](const Request&) { return named("files"); }).ok());

  auto m = r.match("GET", {"api", "vehicles", "v-7", "trips"});
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(*m.pattern, "/api/vehicles/{id}/trips");
  EXPECT_EQ(m.params.at("id"), "v-7");

  m = r.match("GET", {"api", "vehicles", "latest", "trips"});
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ((*m.handler)(Request{}).body, "latest");

  m = r.match("HEAD", {"api", "vehicles", "1", "trips"});  // HEAD uses the GET route
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ((*m.handler)(Request{}).body, "trips");

  m = r.match("DELETE", {"api", "vehicles", "1", "trips"});
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");

  EXPECT_EQ(r.match("GET", {"api", "vehicles", "", "trips"}).outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.match("GET", {"api", "vehicles", "1"}).outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.match("GET", {"api", "vehicles", "1", "trips", "x"}).outcome, Router::Outcome::kNotFound);

  m = r.match("GET", {"files", "css", "app.css"});
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.at("rest"), "css/app.css");
  m = r.match("GET", {"files"});
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.at("rest"), "");
}

TEST(HttpRouterTest, RejectsBadPatterns) {
  Router r;
  auto h = [](const Request&) { return Response{}; };
  EXPECT_FALSE(r.add("GET", "no-slash", h).ok());
  EXPECT_FALSE(r.add("get", "/x", h).ok());
  EXPECT_FALSE(r.add("GET", "/a/{x}/{x}", h).ok());
  EXPECT_FALSE(r.add("GET", "/a/{rest*}/b", h).ok());
  EXPECT_FALSE(r.add("GET", "/a/x{y}", h).ok());
  EXPECT_TRUE(r.add("GET", "/a", h).ok());
  EXPECT_FALSE(r.add("GET", "/a", h).ok());  // duplicate
}

TEST(HttpRouterTest, SseEventFraming) {
  EXPECT_EQ(format_sse_event("trip", "line1\nline2", "42"),
            "id: 42\nevent: trip\ndata: line1\ndata: line2\n\n");
  EXPECT_EQ(format_sse_event("", "x", ""), "data: x\n\n");
  // A newline in the event name must not inject a field.
  EXPECT_EQ(format_sse_event("a\ndata: evil", "x\r\ny", ""), "event: adata: evil\ndata: x\ndata: y\n\n");
}

}  // namespace
}  // namespace fp::httpd
