// The web app end to end over HTTP against the real webapp PostgreSQL: each test gets a scratch schema built
// by the real migrations (001, 002, 004), and a WebApp instance on an ephemeral port reading and writing it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/config.h"
#include "common/http/client.h"
#include "common/http/csrf.h"
#include "common/pg/connection.h"
#include "webapp/app.h"

namespace fp::webapp {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kValidForm =
    "vehicle_id=4&trip_id=1&measurement_sequence=86&measurement_time=2024-04-15+17%3A55%3A03&latitude=49."
    "72224&"
    "longitude=-117.3776&fuel_capacity=30&distance_traveled=1075&fuel_remaining_percent=64&"
    "fuel_remaining_gallon=19.2&color=yellow";

class WebappIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Config::load();
    ASSERT_TRUE(c.ok()) << c.error().message;
    cfg_ = *c;
    std::random_device rd;
    schema_ = fmt::format("fp_webapp_test_{}_{:08x}", getpid(), rd());
    auto conn = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    conn_.emplace(std::move(*conn));
    ASSERT_TRUE(conn_->exec("CREATE SCHEMA " + schema_).ok());
    ASSERT_TRUE(conn_->exec("SET search_path = " + schema_).ok());
    for (const char* m :
         {"001_core_tables.sql", "002_latest_locations.sql", "005_vehicle_latest_index.sql"}) {
      const std::string sql = read_file(std::string("sql/webapp/") + m);
      ASSERT_FALSE(sql.empty()) << m << " (run from the repository root)";
      auto st = conn_->exec(sql);
      ASSERT_TRUE(st.ok()) << m << ": " << st.error().message;
    }
    // The app logs in as its own role (sql/grants/webapp.sql); in this copy trip_latest's triggers run as
    // the caller, so it writes that table too.
    const auto app = cfg_.webapp_as(DbService::kApp).user;
    ASSERT_TRUE(
        conn_
            ->exec(fmt::format("GRANT USAGE ON SCHEMA {0} TO {1}; "
                               "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {0} TO {1}; "
                               "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {0} TO {1}",
                               schema_, app))
            .ok());
    ASSERT_TRUE(conn_
                    ->exec("INSERT INTO drivers VALUES (1, 'Ada', 'L1', now()), (2, 'Bo', 'L2', now());"
                           "INSERT INTO vehicles VALUES (4, 1, 'Ford', 'Transit', 30, 'yellow', now()),"
                           " (5, 2, 'Ford', 'Ranger', 50, 'green', now());")
                    .ok());
    start_app(cfg_);
  }
  void TearDown() override {
    app_.reset();
    auto st = conn_->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  void start_app(const Config& cfg, std::chrono::milliseconds cache_ttl = 60s) {
    WebappOptions o;
    o.port = 0;
    o.schema = schema_;
    o.static_dir = "web/webapp";
    // A long cache: the tests prove inserts through the app invalidate it.
    o.cache_ttl = cache_ttl;
    o.csrf_secret = "test-secret";
    app_ = std::make_unique<WebApp>(cfg, o);
    auto st = app_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    base_ = fmt::format("http://127.0.0.1:{}", app_->port());
  }

  http::Response request(const std::string& method, const std::string& path, std::string body = {},
                         http::Headers headers = {}) {
    http::Request r;
    r.method = method;
    r.url = base_ + path;
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.timeout = 10s;
    auto resp = http::perform(r);
    EXPECT_TRUE(resp.ok()) << resp.error().message;
    return resp.ok() ? *resp : http::Response{};
  }
  // GET / and pick up the CSRF cookie and field.
  void fetch_token() {
    auto page = request("GET", "/");
    ASSERT_EQ(page.status, 200);
    const std::string* set_cookie = page.header("set-cookie");
    ASSERT_NE(set_cookie, nullptr);
    cookie_ = set_cookie->substr(0, set_cookie->find(';'));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(page.body, m, std::regex("name=\"csrf_token\" value=\"([^\"]+)\"")));
    token_ = m[1];
  }
  http::Response submit(const std::string& form, bool with_token = true) {
    return request("POST", "/submit", with_token ? form + "&csrf_token=" + token_ : form,
                   {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie_}});
  }
  http::Response post_json(const std::string& body) {
    return request("POST", "/api/trips", body, {{"Content-Type", "application/json"}});
  }
  int64_t trips() {
    auto r = conn_->query("SELECT count(*) FROM trips");
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r->get<int64_t>(0, 0) : -1;
  }
  // The first data row of the latest-trips table.
  static std::string first_row(const std::string& page) {
    auto b = page.find("<tbody>");
    if (b == std::string::npos) return "";
    auto s = page.find("<tr>", b), e = page.find("</tr>", b);
    return page.substr(s, e - s);
  }

  Config cfg_;
  std::string schema_;
  std::optional<pg::Connection> conn_;
  std::unique_ptr<WebApp> app_;
  std::string base_, cookie_, token_;
};

TEST_F(WebappIntegration, SubmittedTripShowsAtTheTopOfTheNextPage) {
  fetch_token();  // also fills the cache with the empty table
  ASSERT_TRUE(
      conn_
          ->exec("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude,"
                 " longitude, fuel_capacity, distance_traveled, fuel_remaining_percent,"
                 " fuel_remaining_gallon, color) VALUES (5, 3, 9, '2024-04-15 10:00:00', 1, 2, 50, 3, 4,"
                 " 5, 'green')")
          .ok());
  auto r = submit(kValidForm);
  EXPECT_EQ(r.status, 303);
  ASSERT_NE(r.header("location"), nullptr);
  EXPECT_EQ(*r.header("location"), "/");
  EXPECT_EQ(trips(), 2);
  auto page = request("GET", "/");
  ASSERT_EQ(page.status, 200);
  const std::string row = first_row(page.body);
  EXPECT_TRUE(contains(row, "<td class=\"num\">4</td><td class=\"num\">1</td><td class=\"num\">86</td>"))
      << row;
  EXPECT_TRUE(contains(row, "2024-04-15 17:55:03")) << row;
  EXPECT_TRUE(contains(row, "49.72224")) << row;
  EXPECT_TRUE(contains(page.body, "green"));  // the other vehicle, older, below
  auto api = request("GET", "/api/trips/latest");
  auto j = nlohmann::json::parse(api.body);
  ASSERT_EQ(j["trips"].size(), 2u);
  EXPECT_EQ(j["trips"][0]["vehicle_id"], 4);
  EXPECT_EQ(j["trips"][0]["fuel_remaining_gallon"], 19.2);
  EXPECT_EQ(j["trips"][1]["vehicle_id"], 5);
}

TEST_F(WebappIntegration, InvalidFormIsShownAgainWithReasonsAndWritesNothing) {
  fetch_token();
  auto r = submit(
      "vehicle_id=4&trip_id=abc&measurement_sequence=0&measurement_time=2024-02-30+10%3A00%3A00&latitude=91&"
      "longitude=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&fuel_capacity=30&distance_traveled=-1&"
      "fuel_remaining_percent=101&fuel_remaining_gallon=19&color=Red%27%3B+DROP+TABLE+trips%3B--");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(trips(), 0);
  for (const char* f : {"trip_id", "measurement_sequence", "measurement_time", "latitude", "longitude",
                        "distance_traveled", "fuel_remaining_percent", "color"}) {
    EXPECT_TRUE(contains(r.body, fmt::format("id=\"e-{}\"", f))) << f;
  }
  EXPECT_FALSE(contains(r.body, "id=\"e-vehicle_id\""));
  EXPECT_FALSE(contains(r.body, "<script>alert(1)"));
  EXPECT_TRUE(contains(r.body, "value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
  EXPECT_TRUE(contains(r.body, "value=\"Red&#39;; DROP TABLE trips;--\""));
  EXPECT_TRUE(contains(r.body, "value=\"abc\""));  // values preserved
  EXPECT_TRUE(contains(r.body, "must be between -90 and 90"));
}

TEST_F(WebappIntegration, DatabaseChecksAreFieldErrorsAndDuplicatesAreConflicts) {
  fetch_token();
  std::string form = kValidForm;
  auto unknown = submit(std::regex_replace(form, std::regex("vehicle_id=4"), "vehicle_id=77"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_TRUE(contains(unknown.body, "vehicle 77 does not exist"));
  // Vehicle 5's tank holds 50; the form's own capacity says 60, so only the database knows it is too much.
  auto over = submit(std::regex_replace(
      std::regex_replace(std::regex_replace(form, std::regex("vehicle_id=4"), "vehicle_id=5"),
                         std::regex("fuel_capacity=30"), "fuel_capacity=60"),
      std::regex("fuel_remaining_gallon=19.2"), "fuel_remaining_gallon=55"));
  EXPECT_EQ(over.status, 400);
  EXPECT_TRUE(contains(over.body, "id=\"e-fuel_remaining_gallon\""));
  EXPECT_EQ(trips(), 0);
  EXPECT_EQ(submit(form).status, 303);
  auto dup = submit(form);
  EXPECT_EQ(dup.status, 409);
  EXPECT_TRUE(contains(dup.body, "already has measurement 86 of trip 1"));
  EXPECT_EQ(trips(), 1);
}

TEST_F(WebappIntegration, CsrfAndEncodingAreEnforced) {
  fetch_token();
  EXPECT_EQ(submit(kValidForm, /*with_token=*/false).status, 403);
  // A token signed by another secret (another deployment, a forger) is refused even when cookie == field.
  auto foreign =
      request("POST", "/submit",
              std::string(kValidForm) + "&csrf_token=" + std::string(32, 'a') + "." + std::string(64, 'b'),
              {{"Content-Type", "application/x-www-form-urlencoded"},
               {"Cookie", "fp_csrf=" + std::string(32, 'a') + "." + std::string(64, 'b')}});
  EXPECT_EQ(foreign.status, 403);
  auto no_cookie = request("POST", "/submit", std::string(kValidForm) + "&csrf_token=" + token_,
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(no_cookie.status, 403);
  EXPECT_TRUE(contains(no_cookie.body, "value=\"yellow\""));  // values preserved for the retry
  EXPECT_EQ(request("POST", "/submit", kValidForm, {{"Content-Type", "text/plain"}}).status, 415);
  auto huge = submit(std::string(kValidForm) + "&pad=" + std::string(64 * 1024, 'x'));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(trips(), 0);
  auto page = request("GET", "/");
  ASSERT_NE(page.header("set-cookie"), nullptr);
  EXPECT_TRUE(contains(*page.header("set-cookie"), "SameSite=Strict"));
  ASSERT_NE(page.header("content-security-policy"), nullptr);
}

// A form kept open past the token's lifetime: refused as expired (not as forged), shown again with what was
// typed and a new token, and that token then works.
TEST_F(WebappIntegration, AnExpiredFormComesBackWithItsValuesAndANewToken) {
  const std::string old = Csrf("test-secret").issue(Csrf::Clock::now() - std::chrono::hours(3));
  auto expired =
      request("POST", "/submit", std::string(kValidForm) + "&csrf_token=" + old,
              {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", "fp_csrf=" + old}});
  EXPECT_EQ(expired.status, 403);
  EXPECT_TRUE(contains(expired.body, "expired")) << expired.body;
  EXPECT_TRUE(contains(expired.body, "value=\"yellow\""));
  ASSERT_NE(expired.header("set-cookie"), nullptr);
  cookie_ = expired.header("set-cookie")->substr(0, expired.header("set-cookie")->find(';'));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(expired.body, m, std::regex("name=\"csrf_token\" value=\"([^\"]+)\"")));
  token_ = m[1];
  EXPECT_NE(token_, old);
  EXPECT_EQ(trips(), 0);
  EXPECT_EQ(submit(kValidForm).status, 303);
  EXPECT_EQ(trips(), 1);
}

TEST_F(WebappIntegration, JsonApiCreatesAndReportsProblems) {
  const nlohmann::json trip = {{"vehicle_id", 5},
                               {"trip_id", 2},
                               {"measurement_sequence", 1},
                               {"measurement_time", "2024-04-16 06:50:03"},
                               {"latitude", 67.8835508496},
                               {"longitude", -112.3508989575},
                               {"fuel_capacity", 50},
                               {"distance_traveled", 2000},
                               {"fuel_remaining_percent", 33},
                               {"fuel_remaining_gallon", 9.9},
                               {"color", "orange"}};
  auto created = post_json(trip.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto row = nlohmann::json::parse(created.body);
  EXPECT_GT(row["id"].get<int64_t>(), 0);
  EXPECT_EQ(row["latitude"], 67.8835508496);
  EXPECT_EQ(row["measurement_time"], "2024-04-16 06:50:03");
  auto dup = post_json(trip.dump());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(*dup.header("content-type"), "application/problem+json");

  auto bad = trip;
  bad["latitude"] = "67";
  bad["color"] = "<b>orange</b>";
  bad["trip_id"] = 2.5;
  bad.erase("measurement_sequence");
  auto problem = post_json(bad.dump());
  EXPECT_EQ(problem.status, 400);
  EXPECT_EQ(*problem.header("content-type"), "application/problem+json");
  auto p = nlohmann::json::parse(problem.body);
  std::set<std::string> fields;
  for (const auto& e : p["errors"]) fields.insert(e["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"latitude", "color", "trip_id", "measurement_sequence"}));

  EXPECT_EQ(post_json("{\"vehicle_id\": 5,").status, 400);
  EXPECT_EQ(post_json("[1,2]").status, 400);
  EXPECT_EQ(post_json("\"\xff\xfe\"").status, 400);
  EXPECT_EQ(request("POST", "/api/trips", trip.dump(), {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(post_json(std::string(20000, ' ') + trip.dump()).status, 413);
  EXPECT_EQ(trips(), 1);
}

TEST_F(WebappIntegration, ConcurrentSubmissionsEachGetTheirOwnOutcome) {
  // Concurrent inserts share group-commit statements; duplicates and bad rows inside one batch must not
  // fail, or be mistaken for, their neighbours.
  auto trip = [](int vehicle, int seq) {
    return nlohmann::json{{"vehicle_id", vehicle},
                          {"trip_id", 9},
                          {"measurement_sequence", seq},
                          {"measurement_time", "2024-04-16 06:50:03"},
                          {"latitude", 1.5},
                          {"longitude", 2.5},
                          {"fuel_capacity", 50},
                          {"distance_traveled", seq},
                          {"fuel_remaining_percent", 33},
                          {"fuel_remaining_gallon", 9.9},
                          {"color", "orange"}}
        .dump();
  };
  std::vector<std::string> bodies;
  for (int seq = 1; seq <= 30; ++seq) bodies.push_back(trip(5, seq));
  for (int i = 0; i < 5; ++i) bodies.push_back(trip(5, 100));       // one key, five times
  for (int i = 0; i < 5; ++i) bodies.push_back(trip(77, 200 + i));  // no such vehicle
  std::vector<long> status(bodies.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&, i] {
      http::Request r;
      r.method = "POST";
      r.url = base_ + "/api/trips";
      r.body = bodies[i];
      r.headers = {{"Content-Type", "application/json"}};
      auto resp = http::perform(r);
      status[i] = resp.ok() ? resp->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 30; ++i) EXPECT_EQ(status[i], 201) << i;
  EXPECT_EQ(std::count(status.begin() + 30, status.begin() + 35, 201), 1);
  EXPECT_EQ(std::count(status.begin() + 30, status.begin() + 35, 409), 4);
  for (int i = 35; i < 40; ++i) EXPECT_EQ(status[i], 400) << i;
  EXPECT_EQ(trips(), 31);
}

TEST_F(WebappIntegration, VehicleTripsPageWithKeysetCursor) {
  ASSERT_TRUE(
      conn_
          ->exec("INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude,"
                 " longitude, fuel_capacity, distance_traveled, fuel_remaining_percent,"
                 " fuel_remaining_gallon, color) SELECT 4, t, s, timestamp '2024-01-01' + s * interval"
                 " '1 min', 1, 2, 30, s, 50, 10, 'red' FROM generate_series(1, 3) t,"
                 " generate_series(1, 9) s")
          .ok());
  std::vector<std::pair<int, int>> seen;
  std::string next = "/api/vehicles/4/trips?limit=10";
  int pages = 0;
  while (!next.empty()) {
    auto r = request("GET", next);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = nlohmann::json::parse(r.body);
    for (const auto& t : j["trips"])
      seen.emplace_back(t["trip_id"].get<int>(), t["measurement_sequence"].get<int>());
    next = j["next"].is_null() ? "" : j["next"].get<std::string>();
    ASSERT_LT(++pages, 10);
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 27u);
  EXPECT_EQ(seen.front(), std::make_pair(3, 9));
  EXPECT_EQ(seen.back(), std::make_pair(1, 1));
  for (size_t i = 1; i < seen.size(); ++i)
    EXPECT_GT(seen[i - 1], seen[i]);  // strictly descending, no repeats
  EXPECT_EQ(request("GET", "/api/vehicles/99/trips").status, 404);
  EXPECT_EQ(request("GET", "/api/vehicles/abc/trips").status, 400);
  EXPECT_EQ(request("GET", "/api/vehicles/4/trips?limit=0").status, 400);
  EXPECT_EQ(request("GET", "/api/vehicles/4/trips?limit=501").status, 400);
  EXPECT_EQ(request("GET", "/api/vehicles/4/trips?before=1%27--").status, 400);
}

TEST_F(WebappIntegration, SessionsKilledByTheServerAreReplaced) {
  ASSERT_EQ(request("GET", "/healthz").status, 200);
  // Kill every session of this app (its search_path names our schema), as a database restart would.
  auto killed = conn_->query(
      "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE application_name = $1",
      "fleetpipe-webapp/" + schema_);
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  EXPECT_GE(*killed->get<int64_t>(0, 0), 1);
  // pg_terminate_backend(pid, timeout) has waited for each to end; they must be gone from the view too.
  for (int i = 0; i < 100; ++i) {
    auto left = conn_->query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                             "fleetpipe-webapp/" + schema_);
    if (left.ok() && *left->get<int64_t>(0, 0) == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(request("GET", "/healthz").status, 200) << i;
  fetch_token();
  EXPECT_EQ(submit(kValidForm).status, 303);
}

TEST_F(WebappIntegration, DatabaseDownIsA503PageNotACrash) {
  Config down = cfg_;
  down.webapp.port = 1;  // nothing listens there
  app_.reset();
  start_app(down, 0ms);
  auto page = request("GET", "/");
  EXPECT_EQ(page.status, 503);
  EXPECT_TRUE(contains(page.body, "cannot be reached"));
  EXPECT_EQ(request("GET", "/healthz").status, 503);
  EXPECT_EQ(request("GET", "/api/trips/latest").status, 503);
  EXPECT_EQ(request("GET", "/static/webapp.css").status, 200);
  auto metrics = request("GET", "/metrics");
  EXPECT_TRUE(contains(metrics.body, "webapp_db_errors_total{query=\"latest_per_vehicle\"}"));
}

}  // namespace
}  // namespace fp::webapp
