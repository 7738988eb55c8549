// Status that tells the truth: a connector that is not RUNNING makes `status` report Kafka Connect unhealthy,
// the CDC slot's retained WAL is checked against its limit, and the live dashboard's /healthz fails when the
// source commits changes that do not arrive.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/config.h"
#include "common/http/client.h"
#include "common/pg/connection.h"
#include "realtime/service.h"
#include "stack/lifecycle.h"
#include "stack/provision.h"

namespace fp {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const stack::PartStatus* find_part(const std::vector<stack::PartStatus>& parts, const std::string& name) {
  for (const auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

std::string connector_state(const std::string& connect_url) {
  auto r = http::get(connect_url + "/connectors/webapp-cdc/status", 5s);
  if (!r || r->status != 200) return "";
  auto j = json::parse(r->body, nullptr, false);
  return j.is_discarded() ? "" : j.value("/connector/state"_json_pointer, "");
}

// Resumes the CDC connector however the test ends: a paused connector would stop every later test's changes.
struct ResumeConnector {
  std::string url;
  ~ResumeConnector() {
    (void)http::send("PUT", url + "/connectors/webapp-cdc/resume", "", "application/json", 10s);
    for (int i = 0; i < 60 && connector_state(url) != "RUNNING"; ++i) std::this_thread::sleep_for(500ms);
  }
};

int healthz_status(uint16_t port, json* detail = nullptr) {
  auto r = http::get(fmt::format("http://127.0.0.1:{}/healthz", port), 5s);
  if (!r) return -1;
  if (detail) *detail = json::parse(r->body, nullptr, false);
  return r->status;
}

TEST(StatusTruth, APausedConnectorIsUnhealthyAndTheDashboardNoticesChangesThatDoNotArrive) {
  auto ctx = stack::Context::load();
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  {
    const auto parts = stack::status(*ctx);
    const auto* connect = find_part(parts, "kafka-connect");
    ASSERT_NE(connect, nullptr);
    ASSERT_EQ(connect->state, "healthy") << connect->detail;
  }
  auto conn = pg::Connection::connect(ctx->cfg.webapp);
  ASSERT_TRUE(conn.ok()) << conn.error().message;

  realtime::RealtimeOptions o;
  o.port = 0;
  o.group_id = fmt::format("status-truth-test-{}", getpid());
  o.rebuild_from_db = false;
  o.new_group_from_end = true;
  o.lag_interval = 500ms;
  o.source_stall_after = 3s;
  realtime::RealtimeService service(ctx->cfg, o);
  ASSERT_TRUE(service.start().ok());
  int code = -1;
  for (int i = 0; i < 40 && code != 200; ++i) {
    std::this_thread::sleep_for(250ms);
    code = healthz_status(service.port());
  }
  ASSERT_EQ(code, 200);

  ResumeConnector resume{ctx->cfg.connect_url};
  auto paused =
      http::send("PUT", ctx->cfg.connect_url + "/connectors/webapp-cdc/pause", "", "application/json", 10s);
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  for (int i = 0; i < 60 && connector_state(ctx->cfg.connect_url) != "PAUSED"; ++i)
    std::this_thread::sleep_for(500ms);
  ASSERT_EQ(connector_state(ctx->cfg.connect_url), "PAUSED");
  {
    const auto parts = stack::status(*ctx);
    const auto* connect = find_part(parts, "kafka-connect");
    ASSERT_NE(connect, nullptr);
    EXPECT_EQ(connect->state, "unhealthy");
    EXPECT_NE(connect->detail.find("webapp-cdc"), std::string::npos) << connect->detail;
    EXPECT_NE(connect->detail.find("PAUSED"), std::string::npos) << connect->detail;
    EXPECT_FALSE(stack::all_healthy(parts));
  }

  // A change the paused connector does not carry: the dashboard turns unhealthy once it has waited 3 s.
  ASSERT_TRUE(conn->exec("INSERT INTO drivers (id, name, license_number) VALUES (990105, 'ST', 'ST-990105') "
                         "ON CONFLICT (id) DO UPDATE SET name = 'ST2'")
                  .ok());
  json detail;
  for (int i = 0; i < 60 && code == 200; ++i) {
    std::this_thread::sleep_for(250ms);
    code = healthz_status(service.port(), &detail);
  }
  EXPECT_EQ(code, 503) << detail.dump();
  EXPECT_GE(detail.value("/detail/source_change_pending_ms"_json_pointer, int64_t{0}), 3000) << detail.dump();

  // Resumed, the change arrives and the dashboard is healthy again.
  ASSERT_TRUE(
      http::send("PUT", ctx->cfg.connect_url + "/connectors/webapp-cdc/resume", "", "application/json", 10s)
          .ok());
  for (int i = 0; i < 120 && code != 200; ++i) {
    std::this_thread::sleep_for(250ms);
    code = healthz_status(service.port(), &detail);
  }
  EXPECT_EQ(code, 200) << detail.dump();
  service.stop();
  ASSERT_TRUE(conn->exec("DELETE FROM drivers WHERE id = 990105").ok());
}

// The slot check reads the CDC slot's retained WAL: under a generous limit it passes, under a limit of -1
// byte it names the slot and what it holds back.
TEST(StatusTruth, TheReplicationSlotsRetainedWalIsCheckedAgainstItsLimit) {
  auto ctx = stack::Context::load();
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  PgConfig super = ctx->cfg.webapp;
  const Status ok = stack::replication_slots_ok(*ctx, super, int64_t{1} << 40);
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  const Status over = stack::replication_slots_ok(*ctx, super, -1);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("webapp_cdc"), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find("holds back"), std::string::npos) << over.error().message;
}

}  // namespace
}  // namespace fp
