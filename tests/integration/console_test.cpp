// `fleetpipe console` against the running stack: offsets and tails match what we produce, a consumer
// group's lag is exact, the Debezium connector is RUNNING and restarts only with the operator token, the
// replication slot's lag is a number, the batch panel and history show ops rows we insert, run-now inserts
// a request and notifies, dbt docs are served when present, and a part being down degrades only its panel.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "common/config.h"
#include "common/http/client.h"
#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/pg/connection.h"
#include "console/app.h"
#include "integration/scratch_db.h"

namespace fp {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr const char* kToken = "console-test-token";

std::string unique(const std::string& base) {
  return fmt::format("{}-{}-{}", base, getpid(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
}

kafka::AdminOptions admin_options(const Config& c) {
  kafka::AdminOptions o;
  o.bootstrap = c.kafka_bootstrap;
  return o;
}
kafka::ProducerOptions producer_options(const Config& c) {
  kafka::ProducerOptions o;
  o.bootstrap = c.kafka_bootstrap;
  return o;
}

class ConsoleIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Config::load();
    ASSERT_TRUE(c.ok()) << c.error().message;
    cfg_ = *c;
    cfg_.console_token = kToken;
    dbt_dir_ = std::filesystem::temp_directory_path() / unique("console-dbt");
    start(cfg_);
  }
  void TearDown() override {
    if (console_) console_->stop();
    std::filesystem::remove_all(dbt_dir_);
    for (const auto& t : topics_) EXPECT_TRUE(admin_->delete_topic(t).ok()) << t;
  }

  // A topic of the test's own (deleted when it ends, whatever its outcome) and producer_ to fill it.
  void create_topic(const std::string& topic, int partitions) {
    if (!admin_) {
      auto admin = kafka::Admin::create(admin_options(cfg_));
      ASSERT_TRUE(admin.ok());
      admin_ = std::move(*admin);
    }
    ASSERT_TRUE(admin_->create_topic({topic, partitions, 1, {}}).ok());
    topics_.push_back(topic);
    if (!producer_) {
      auto producer = kafka::Producer::create(producer_options(cfg_));
      ASSERT_TRUE(producer.ok());
      producer_ = std::move(*producer);
    }
  }

  void start(const Config& cfg, console::Timeouts timeouts = {}) {
    console::ConsoleOptions o;
    o.port = 0;
    o.static_dir = "web/console";
    o.dbt_target = dbt_dir_;
    o.csrf_secret = "console-test-secret";
    o.refresh = std::chrono::milliseconds(1000);
    o.timeouts = timeouts;
    // Nothing listens on port 1: every other UI is "not running".
    for (auto& s : o.services) s.url = "http://127.0.0.1:1/";
    console_ = std::make_unique<console::Console>(cfg, o);
    auto st = console_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    base_ = fmt::format("http://127.0.0.1:{}", console_->port());
  }

  http::Response request(const std::string& method, const std::string& path, std::string body = "",
                         http::Headers headers = {}) {
    http::Request r;
    r.method = method;
    r.url = base_ + path;
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.timeout = std::chrono::milliseconds(60000);
    auto resp = http::perform(r);
    EXPECT_TRUE(resp.ok()) << method << " " << path << ": " << (resp ? "" : resp.error().message);
    return resp ? *resp : http::Response{};
  }
  json get_json(const std::string& path) {
    auto r = request("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }

  // The page's CSRF cookie and form token.
  std::pair<std::string, std::string> csrf(const std::string& page) {
    auto r = request("GET", page);
    const std::string* set = r.header("set-cookie");
    EXPECT_NE(set, nullptr);
    std::string cookie = set ? set->substr(0, set->find(';')) : "";
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.body, m, std::regex("name=\"csrf_token\" value=\"([^\"]+)\"")));
    return {cookie, m.size() > 1 ? m[1].str() : ""};
  }

  static const json* find(const json& arr, const char* key, const std::string& value) {
    for (const auto& x : arr)
      if (x.value(key, "") == value) return &x;
    return nullptr;
  }

  Config cfg_;
  std::filesystem::path dbt_dir_;
  std::unique_ptr<console::Console> console_;
  std::unique_ptr<kafka::Admin> admin_;
  std::unique_ptr<kafka::Producer> producer_;
  std::vector<std::string> topics_;
  std::string base_;
};

TEST_F(ConsoleIntegration, OverviewShowsTheStackAndAbsentServicesAsNotRunning) {
  auto o = get_json("/api/overview");
  ASSERT_TRUE(o["stack"].contains("parts")) << o.dump();
  const json* kafka = find(o["stack"]["parts"], "name", "kafka");
  ASSERT_NE(kafka, nullptr) << o.dump();
  EXPECT_EQ((*kafka)["state"], "healthy");
  const json* pg = find(o["stack"]["parts"], "name", "postgres-webapp");
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ((*pg)["state"], "healthy");
  ASSERT_EQ(o["services"].size(), 4u);
  for (const auto& s : o["services"]) EXPECT_EQ(s["state"], "not running") << s.dump();
  auto page = request("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("data-part=\"kafka\""), std::string::npos);
  EXPECT_EQ(request("GET", "/healthz").status, 200);
  auto metrics = request("GET", "/metrics");
  EXPECT_NE(metrics.body.find("console_sse_clients"), std::string::npos);
}

TEST_F(ConsoleIntegration, TopicOffsetsAndTailMatchWhatWasProduced) {
  const std::string topic = unique("console-test");
  ASSERT_NO_FATAL_FAILURE(create_topic(topic, 2));
  for (int i = 0; i < 7; ++i) {
    const std::string v = fmt::format(R"({{"n":{},"p":0}})", i);
    const std::string k = fmt::format("k{}", i);
    ASSERT_TRUE(
        producer_->produce({.topic = topic, .key = k, .value = v, .headers = {}, .partition = 0}).ok());
  }
  for (int i = 0; i < 3; ++i) {
    const std::string v = "plain text " + std::to_string(i);
    ASSERT_TRUE(
        producer_->produce({.topic = topic, .key = std::nullopt, .value = v, .headers = {}, .partition = 1})
            .ok());
  }
  ASSERT_TRUE(producer_->flush(std::chrono::milliseconds(20000)).ok());

  auto all = get_json("/api/topics");
  const json* t = find(all["topics"], "name", topic);
  ASSERT_NE(t, nullptr) << all.dump();
  EXPECT_EQ((*t)["partitions"], 2);
  EXPECT_EQ((*t)["messages"], 10);
  EXPECT_EQ((*t)["offsets"][0]["low"], 0);
  EXPECT_EQ((*t)["offsets"][0]["high"], 7);
  EXPECT_EQ((*t)["offsets"][1]["high"], 3);

  auto d = get_json("/api/topics/" + topic + "?partition=0&n=5");
  const auto& msgs = d["tail"]["messages"];
  ASSERT_EQ(msgs.size(), 5u) << d.dump();
  EXPECT_EQ(msgs[0]["offset"], 6);  // newest first
  EXPECT_EQ(msgs[4]["offset"], 2);
  EXPECT_EQ(msgs[0]["key"], "k6");
  EXPECT_EQ(msgs[0]["value"], "{\n  \"n\": 6,\n  \"p\": 0\n}");
  auto p1 = get_json("/api/topics/" + topic + "?partition=1&n=20");
  ASSERT_EQ(p1["tail"]["messages"].size(), 3u);
  EXPECT_EQ(p1["tail"]["messages"][0]["value"], "plain text 2");
  EXPECT_EQ(p1["tail"]["messages"][0]["key"], "null");

  auto page = request("GET", "/topics/" + topic + "?partition=0&n=5");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("&quot;n&quot;: 6"), std::string::npos);
  EXPECT_EQ(request("GET", "/topics/no-such-topic-here").status, 404);
  EXPECT_EQ(request("GET", "/topics/" + topic + "?n=5000").status, 400);
  // Reading the tail joined no group and committed nothing.
  auto groups = get_json("/api/groups");
  for (const auto& g : groups["groups"])
    for (const auto& p : g.value("partitions", json::array())) EXPECT_NE(p["topic"], topic) << g.dump();
}

// The message that once took the console down: a few hundred KB of nesting produced to a topic. Its tail
// page answers, shows the value as sent and cut, with a note saying why; the console keeps serving.
TEST_F(ConsoleIntegration, AHostileMessageIsShownCutWithANoteAndTheConsoleStaysUp) {
  const std::string topic = unique("console-hostile");
  ASSERT_NO_FATAL_FAILURE(create_topic(topic, 1));
  const std::string bomb = std::string(300000, '[') + std::string(300000, ']');
  const std::string deep = std::string(3000, '{') + std::string(3000, '}');
  for (const std::string* v : {&bomb, &deep})
    ASSERT_TRUE(
        producer_->produce({.topic = topic, .key = "k", .value = *v, .headers = {}, .partition = 0}).ok());
  ASSERT_TRUE(producer_->flush(std::chrono::milliseconds(20000)).ok());

  auto d = get_json("/api/topics/" + topic + "?partition=0&n=5");
  const auto& msgs = d["tail"]["messages"];
  ASSERT_EQ(msgs.size(), 2u) << d.dump().substr(0, 2000);
  EXPECT_EQ(msgs[1]["value_bytes"], 600000);
  EXPECT_EQ(msgs[1]["value"], std::string(4096, '[') + "…");
  EXPECT_EQ(msgs[1]["value_note"],
            "first 4.0 KiB of the 585.9 KiB sent; as sent: cut before it could be re-indented");
  EXPECT_EQ(msgs[0]["value_note"], "cut to 4.0 KiB; as sent: nested deeper than 64 levels to re-indent");
  auto page = request("GET", "/topics/" + topic + "?partition=0&n=5");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("nested deeper than 64 levels"), std::string::npos);
  EXPECT_EQ(request("GET", "/healthz").status, 200);
}

TEST_F(ConsoleIntegration, ConsumerGroupLagIsTheMessagesPastTheCommit) {
  const std::string topic = unique("console-lag");
  const std::string group = unique("console-lag-group");
  ASSERT_NO_FATAL_FAILURE(create_topic(topic, 2));
  auto produce = [&](int n, int32_t partition) {
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(
          producer_
              ->produce(
                  {.topic = topic, .key = std::nullopt, .value = "m", .headers = {}, .partition = partition})
              .ok());
    ASSERT_TRUE(producer_->flush(std::chrono::milliseconds(20000)).ok());
  };
  produce(4, 0);
  produce(6, 1);
  kafka::ConsumerOptions co;
  co.bootstrap = cfg_.kafka_bootstrap;
  co.group_id = group;
  auto consumer = kafka::Consumer::create(co);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe({topic}).ok());
  size_t seen = 0;
  for (auto deadline = Clock::now() + std::chrono::seconds(30); seen < 10 && Clock::now() < deadline;) {
    auto batch = (*consumer)->poll(std::chrono::milliseconds(500));
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    (*consumer)->store(*batch);
    seen += batch->size();
  }
  ASSERT_EQ(seen, 10u);
  ASSERT_TRUE((*consumer)->commit().ok());
  const int kPast = 5;
  produce(kPast, 0);

  auto g = get_json("/api/groups");
  const json* mine = find(g["groups"], "group", group);
  ASSERT_NE(mine, nullptr) << g.dump();
  EXPECT_EQ((*mine)["lag"], kPast);
  EXPECT_EQ((*mine)["members"], 1);
  ASSERT_EQ((*mine)["partitions"].size(), 2u);
  EXPECT_EQ((*mine)["partitions"][0]["committed"], 4);
  EXPECT_EQ((*mine)["partitions"][0]["high"], 4 + kPast);
  EXPECT_EQ((*mine)["partitions"][0]["lag"], kPast);
  EXPECT_EQ((*mine)["partitions"][1]["lag"], 0);
  auto page = request("GET", "/groups");
  EXPECT_NE(page.body.find("data-group=\"" + group + "\""), std::string::npos);
  ASSERT_TRUE((*consumer)->close().ok());
}

TEST_F(ConsoleIntegration, ConnectorRunsAndRestartsOnlyWithTheToken) {
  auto c = get_json("/api/cdc");
  const json* k = find(c["connect"]["connectors"], "name", "webapp-cdc");
  ASSERT_NE(k, nullptr) << c.dump();
  EXPECT_EQ((*k)["state"], "RUNNING");
  ASSERT_FALSE((*k)["tasks"].empty());
  for (const auto& t : (*k)["tasks"]) EXPECT_EQ(t["state"], "RUNNING");
  const json* slot = find(c["slots"]["slots"], "slot_name", "webapp_cdc");
  ASSERT_NE(slot, nullptr) << c.dump();
  EXPECT_TRUE((*slot)["lag_bytes"].is_number_integer()) << slot->dump();
  EXPECT_GE((*slot)["lag_bytes"].get<int64_t>(), 0);

  // Refused without the token, with a wrong one, and as a form without CSRF: nothing is done.
  auto none = request("POST", "/api/cdc/connectors/webapp-cdc/restart");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find("operator token"), std::string::npos);
  EXPECT_EQ(request("POST", "/api/cdc/connectors/webapp-cdc/restart", "", {{"Authorization", "Bearer nope"}})
                .status,
            403);
  EXPECT_EQ(request("POST", "/cdc/connectors/webapp-cdc/restart", "operator_token=" + std::string(kToken),
                    {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            403);
  // A genuine form without the operator token: 401 and the form explains.
  auto [cookie, form_token] = csrf("/cdc");
  auto no_op = request("POST", "/cdc/connectors/webapp-cdc/restart", "csrf_token=" + form_token,
                       {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie}});
  EXPECT_EQ(no_op.status, 401);
  // The form with both tokens passes the checks (an unknown connector then is a 404 from Connect).
  auto unknown = request("POST", "/cdc/connectors/no-such-connector/restart",
                         "csrf_token=" + form_token + "&operator_token=" + kToken,
                         {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;

  auto ok = request("POST", "/api/cdc/connectors/webapp-cdc/restart", "",
                    {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_EQ(ok.status, 202) << ok.body;
  // Back to RUNNING, tasks included.
  bool running = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(90); !running && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto now = get_json("/api/cdc");
    const json* kk = find(now["connect"]["connectors"], "name", "webapp-cdc");
    running = kk && (*kk)["state"] == "RUNNING" && !(*kk)["tasks"].empty() &&
              std::all_of((*kk)["tasks"].begin(), (*kk)["tasks"].end(),
                          [](const json& t) { return t["state"] == "RUNNING"; });
  }
  EXPECT_TRUE(running);
}

TEST_F(ConsoleIntegration, BatchPanelHistoryAndRunNow) {
  // Runs and run requests of its own, in databases of its own: a running demo's scheduler would claim a
  // request made in its warehouse, and its console would show these runs.
  integration::ScratchStack scratch;
  ASSERT_NO_FATAL_FAILURE(scratch.create(cfg_, "console"));
  console_->stop();
  ASSERT_NO_FATAL_FAILURE(start(scratch.apply(cfg_)));
  pg::ConnectOptions co;
  auto db = pg::Connection::connect(scratch.apply(cfg_).warehouse, co);
  ASSERT_TRUE(db.ok()) << db.error().message;
  const std::string scheduler = unique("console-test");
  // Three runs; the newest has a dbt build and a verify with one failing stage.
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = db->query(
        "INSERT INTO ops.pipeline_runs (scheduler, trigger, started_at, finished_at, outcome) "
        "VALUES ($1, 'schedule', now() + make_interval(secs => $2), now() + make_interval(secs => $2 + 1), "
        "'success') RETURNING run_id",
        scheduler, 3600 + i);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ids.push_back(*r->get<int64_t>(0, 0));
  }
  const int64_t newest = ids.back();
  ASSERT_TRUE(
      db->query(
            "INSERT INTO ops.pipeline_steps (run_id, step, started_at, finished_at, outcome, rows, detail) "
            "VALUES ($1, 'export', now() + interval '3602 s', now() + interval '3602 s', 'success', 42, "
            "NULL), ($1, 'dbt_build', now() + interval '3603 s', now() + interval '3603 s', 'success', NULL, "
            "'{\"pass\": 41, \"fail\": 1, \"error\": 0, \"skip\": 2, \"warn\": 3}'), "
            "($1, 'verify', now() + interval '3604 s', now() + interval '3604 s', 'failed', NULL, "
            "'{\"stages\": [{\"table\": \"trips\", \"check\": \"source->bucket\", \"result\": \"PASS\", "
            "\"detail\": \"10 = 10\"}, {\"table\": \"trips\", \"check\": \"bucket->warehouse\", "
            "\"result\": \"FAIL\", \"detail\": \"3 missing\"}]}')",
            newest)
          .ok());
  // Its build holds the source as of 150 s ago: past the warn threshold (120 s), short of the error one.
  ASSERT_TRUE(db->query("UPDATE ops.pipeline_steps SET detail = detail || jsonb_build_object('freshness', "
                        "jsonb_build_object('as_of', extract(epoch FROM now()) - 150, 'warn_seconds', 120, "
                        "'error_seconds', 300)) WHERE run_id = $1 AND step = 'dbt_build'",
                        newest)
                  .ok());

  auto b = get_json("/api/batch");
  EXPECT_EQ(b["freshness"]["state"], "warn") << b["freshness"].dump();
  EXPECT_GE(b["freshness"]["lag_seconds"].get<double>(), 150);
  EXPECT_LT(b["freshness"]["lag_seconds"].get<double>(), 200);
  EXPECT_TRUE(b["full_tests"].is_null()) << "no whole-table tests recorded yet";
  EXPECT_FALSE(b["export"].contains("error")) << b["export"].dump();
  EXPECT_TRUE(b["export"]["pending_rows"].contains("trips")) << b["export"].dump();
  EXPECT_FALSE(b["load"].contains("error")) << b["load"].dump();
  EXPECT_EQ(b["dbt"]["run_id"], newest) << b.dump();
  EXPECT_EQ(b["dbt"]["detail"]["pass"], 41);
  EXPECT_EQ(b["dbt"]["detail"]["fail"], 1);
  EXPECT_EQ(b["dbt"]["detail"]["warn"], 3);
  EXPECT_EQ(b["verify"]["outcome"], "failed");
  EXPECT_EQ(b["verify"]["detail"]["failed"], 1);
  EXPECT_EQ(b["verify"]["detail"]["stages"][1]["result"], "FAIL");

  // Newest first, two a page, with a cursor to the older ones.
  auto page1 = get_json(fmt::format("/api/runs?limit=2&before={}", newest + 1));
  ASSERT_EQ(page1["runs"].size(), 2u);
  EXPECT_EQ(page1["runs"][0]["run_id"], newest);
  EXPECT_EQ(page1["runs"][1]["run_id"], ids[1]);
  EXPECT_EQ(page1["runs"][0]["steps"].size(), 3u);
  EXPECT_EQ(page1["runs"][0]["steps"][0]["step"], "export");
  EXPECT_EQ(page1["runs"][0]["steps"][0]["rows"], 42);
  ASSERT_EQ(page1["next_before"], ids[1]);
  auto page2 = get_json(fmt::format("/api/runs?limit=2&before={}", ids[1]));
  ASSERT_FALSE(page2["runs"].empty());
  EXPECT_EQ(page2["runs"][0]["run_id"], ids[0]);
  auto html = request("GET", "/batch");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.body.find(fmt::format("data-run=\"{}\"", newest)), std::string::npos);
  EXPECT_NE(html.body.find("data-count=\"pass\">41<"), std::string::npos);
  EXPECT_NE(html.body.find("data-freshness=\"warn\""), std::string::npos);

  // Run now: refused without the token, then a request row and a notification.
  auto count = [&] {
    auto r = db->query("SELECT count(*) FROM ops.run_requests WHERE requested_by = 'console'");
    return r ? *r->get<int64_t>(0, 0) : -1;
  };
  const int64_t before = count();
  EXPECT_EQ(request("POST", "/api/runs").status, 401);
  EXPECT_EQ(count(), before);
  auto listener = pg::Connection::connect(scratch.apply(cfg_).warehouse, co);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(listener->listen("fleetpipe_run_request").ok());
  auto ok = request("POST", "/api/runs", "", {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_EQ(ok.status, 202) << ok.body;
  const int64_t request_id = json::parse(ok.body)["request_id"].get<int64_t>();
  EXPECT_EQ(count(), before + 1);
  auto note = listener->wait_for_notify(std::chrono::milliseconds(5000));
  ASSERT_TRUE(note.ok() && note->has_value());
  EXPECT_EQ((*note)->payload, std::to_string(request_id));
  // The form does the same with CSRF + operator token and redirects back with a notice.
  auto [cookie, form_token] = csrf("/batch");
  auto form = request("POST", "/batch/run-now", "csrf_token=" + form_token + "&operator_token=" + kToken,
                      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie}});
  EXPECT_EQ(form.status, 303);
  EXPECT_EQ(count(), before + 2);
  // A run with whole-table tests: the same request, marked.
  auto full =
      request("POST", "/api/runs/full-tests", "", {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_EQ(full.status, 202) << full.body;
  auto marked = db->query("SELECT full_tests FROM ops.run_requests WHERE request_id = $1",
                          json::parse(full.body)["request_id"].get<int64_t>());
  ASSERT_TRUE(marked.ok() && marked->size() == 1);
  EXPECT_TRUE(*marked->get<bool>(0, 0));
  EXPECT_EQ(count(), before + 3);

  console_->stop();
  console_.reset();
}

TEST_F(ConsoleIntegration, DbtDocsAreServedWhenGenerated) {
  auto missing = request("GET", "/dbt/");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("dbt docs generate"), std::string::npos);
  std::filesystem::create_directories(dbt_dir_);
  std::ofstream(dbt_dir_ / "index.html") << "<html><body>dbt docs here</body></html>";
  std::ofstream(dbt_dir_ / "manifest.json") << R"({"nodes": {}})";
  auto index = request("GET", "/dbt/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("dbt docs here"), std::string::npos);
  auto manifest = request("GET", "/dbt/manifest.json");
  EXPECT_EQ(manifest.status, 200);
  ASSERT_NE(manifest.header("content-type"), nullptr);
  EXPECT_NE(manifest.header("content-type")->find("json"), std::string::npos);
  EXPECT_EQ(request("GET", "/dbt/%2e%2e/etc/passwd").status, 404);
  // /dbt redirects to /dbt/ (the client follows it).
  auto bare = request("GET", "/dbt");
  EXPECT_EQ(bare.status, 200);
  EXPECT_NE(bare.body.find("dbt docs here"), std::string::npos);
}

TEST_F(ConsoleIntegration, APartThatIsDownDegradesOnlyItsPanel) {
  console_->stop();
  Config broken = cfg_;
  broken.kafka_bootstrap = "127.0.0.1:1";
  broken.connect_url = "http://127.0.0.1:1";
  start(broken, console::Timeouts{.http = std::chrono::milliseconds(1000),
                                  .kafka = std::chrono::milliseconds(1500),
                                  .statement = std::chrono::milliseconds(5000),
                                  .pg_connect_s = 3});
  const auto t0 = Clock::now();
  auto topics = request("GET", "/topics");
  EXPECT_EQ(topics.status, 200);
  EXPECT_NE(topics.body.find("panel-error"), std::string::npos);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
  auto c = get_json("/api/cdc");
  EXPECT_TRUE(c["connect"].contains("error"));
  EXPECT_FALSE(c["slots"].contains("error")) << c["slots"].dump();  // the database is still fine
  auto page = request("GET", "/cdc");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("data-slot=\"webapp_cdc\""), std::string::npos);
}

}  // namespace
}  // namespace fp
