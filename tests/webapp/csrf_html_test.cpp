#include <gtest/gtest.h>

#include "common/http/csrf.h"
#include "common/trip/text.h"
#include "webapp/html.h"

namespace fp::webapp {
namespace {

TEST(WebappCsrf, IssuedTokensVerifyOnlyWithTheSameSecretAndCookie) {
  Csrf a("secret-a"), b("secret-b");
  const std::string t = a.issue();
  EXPECT_TRUE(a.valid(t));
  EXPECT_EQ(a.verify(t, t), Csrf::Verdict::kGenuine);
  EXPECT_FALSE(b.valid(t));
  EXPECT_NE(a.issue(), t);  // fresh nonce each time
  const std::string other = a.issue();
  EXPECT_EQ(a.verify(other, t), Csrf::Verdict::kForged);  // field and cookie must match
  EXPECT_EQ(a.verify("", t), Csrf::Verdict::kForged);
  EXPECT_EQ(a.verify(t, ""), Csrf::Verdict::kForged);
  std::string forged = t;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(a.verify(forged, forged), Csrf::Verdict::kForged);
  EXPECT_FALSE(a.valid("x.y"));
  EXPECT_FALSE(a.valid(t.substr(0, 32)));
  Csrf random1(""), random2("");
  EXPECT_FALSE(random2.valid(random1.issue()));
}

// Tokens carry their (signed) issue time: past the lifetime they are expired, not forged, and a page hands
// out a new one once the old is past half its life.
TEST(WebappCsrf, TokensExpireAndAreRenewedAtHalfTheirLife) {
  using namespace std::chrono_literals;
  Csrf c("secret", 2h);
  const auto t0 = Csrf::Clock::time_point(1'800'000'000s);
  const std::string t = c.issue(t0);
  EXPECT_EQ(c.verify(t, t, t0 + 1h), Csrf::Verdict::kGenuine);
  EXPECT_FALSE(c.should_renew(t, t0 + 59min));
  EXPECT_TRUE(c.should_renew(t, t0 + 61min));
  EXPECT_EQ(c.verify(t, t, t0 + 2h), Csrf::Verdict::kGenuine);
  EXPECT_EQ(c.verify(t, t, t0 + 2h + 1s), Csrf::Verdict::kExpired);
  EXPECT_EQ(c.check(t, t0 + 2h + 1s), Csrf::Verdict::kExpired);
  // The issue time is signed: moving it forward breaks the signature.
  std::string younger = t;
  younger[15] = younger[15] == 'f' ? '0' : static_cast<char>(younger[15] + 1);
  EXPECT_EQ(c.check(younger, t0), Csrf::Verdict::kForged);
  // An old-format token (no issue time) is simply not genuine.
  EXPECT_EQ(c.check(std::string(32, 'a') + "." + std::string(64, 'b'), t0), Csrf::Verdict::kForged);
}

TEST(WebappCsrf, CookieParsing) {
  EXPECT_EQ(cookie_value("a=1; fp_csrf=abc.def; b=2", "fp_csrf"), "abc.def");
  EXPECT_EQ(cookie_value("fp_csrf=x", "fp_csrf"), "x");
  EXPECT_EQ(cookie_value("xfp_csrf=x; other=1", "fp_csrf"), "");
  EXPECT_EQ(cookie_value("", "fp_csrf"), "");
  EXPECT_NE(Csrf::cookie_header("t").find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(Csrf::cookie_header("t").find("HttpOnly"), std::string::npos);
}

TEST(WebappHtml, EscapesMarkupEverywhere) {
  EXPECT_EQ(html::escape(R"(<a href="x" onclick='y'>&</a>)"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  html::FormState state;
  state.values.emplace("color", "\"><script>alert(1)</script>");
  state.values.emplace("latitude", "' onfocus='x");
  state.errors.push_back({"color", "bad <b>"});
  state.banner = "<img src=x>";
  const std::string page = html::page("", state, "tok\"en");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("' onfocus"), std::string::npos);
  EXPECT_NE(page.find("&quot;&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("value=\"tok&quot;en\""), std::string::npos);
  EXPECT_NE(page.find("aria-invalid=\"true\""), std::string::npos);
  EXPECT_NE(page.find("id=\"e-color\">bad &lt;b&gt;"), std::string::npos);
}

TEST(WebappHtml, TableShowsEveryColumnAndUnicodeSurvives) {
  TripRow row;
  row.id = 1;
  row.trip = trip::Measurement{
      7, 2, 3, *trip::parse_time("2024-04-15 23:20:00"), 56.9268048001, -136.5, 50, 2000, 86, 43.3, "r<d"};
  const std::string t = html::latest_table({row});
  EXPECT_NE(t.find("<td class=\"num\">56.9268048001</td>"), std::string::npos);
  EXPECT_NE(t.find("<td class=\"num\">-136.5</td>"), std::string::npos);
  EXPECT_NE(t.find("r&lt;d"), std::string::npos);
  EXPECT_NE(t.find("<tr><td class=\"num\">7</td><td class=\"num\">2</td><td class=\"num\">3</td>"
                   "<td><time>2024-04-15 23:20:00</time></td><td class=\"num\">56.9268048001</td>"
                   "<td class=\"num\">-136.5</td><td class=\"num\">50</td><td class=\"num\">2000</td>"
                   "<td class=\"num\">86</td><td class=\"num\">43.3</td>"
                   "<td><span class=\"swatch c-r&lt;d\"></span>r&lt;d</td></tr>\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("Fuel Remaining (gallon)"), std::string::npos);
  EXPECT_NE(html::latest_table({}).find("No trips"), std::string::npos);
  EXPECT_EQ(html::escape("Zürich 🚚"), "Zürich 🚚");
}

TEST(WebappJson, TripRowIsTheApisObject) {
  TripRow row;
  row.id = 9;
  row.trip = trip::Measurement{
      7, 2, 3, *trip::parse_time("2024-04-15 23:20:00"), 56.9268048001, -136.5, 50, 2000, 86, 43.3, "red"};
  EXPECT_EQ(
      to_json(row).dump(),
      R"({"color":"red","distance_traveled":2000.0,"fuel_capacity":50.0,"fuel_remaining_gallon":43.3,)"
      R"("fuel_remaining_percent":86.0,"id":9,"latitude":56.9268048001,"longitude":-136.5,)"
      R"("measurement_sequence":3,"measurement_time":"2024-04-15 23:20:00","trip_id":2,"vehicle_id":7})");
}

}  // namespace
}  // namespace fp::webapp
