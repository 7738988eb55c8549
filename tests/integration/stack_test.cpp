// What `fleetpipe up` provisions, checked in the running engines: migrations in both databases, a CDC role
// with replication and read access only, the declared topics, a RUNNING connector that does not expose its
// password, the landing bucket, and a private credentials file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/http/client.h"
#include "common/kafka/admin.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"

namespace fp {
namespace {

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = *cfg;
  }
  Config cfg_;
};

// Migrations in the checkout for one database: every one of them must be recorded as applied.
int64_t migration_files(const std::string& db) {
  int64_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("sql/" + db)) n += e.path().extension() == ".sql";
  return n;
}

int64_t count(pg::Connection& c, const std::string& sql) {
  auto r = c.query(sql);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->get<int64_t>(0, 0).value() : -1;
}

TEST_F(StackTest, BothDatabasesAnswerWithTheirMigrationsApplied) {
  auto web = pg::Connection::connect(cfg_.webapp);
  ASSERT_TRUE(web.ok()) << web.error().message;
  EXPECT_EQ(count(*web, "SELECT count(*) FROM fleetpipe_schema_migrations"), migration_files("webapp"));
  EXPECT_EQ(count(*web,
                  "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND "
                  "table_name IN ('drivers', 'vehicles', 'trips', 'trip_latest')"),
            4);
  auto wal = web->query("SHOW wal_level");
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(*wal->get<std::string>(0, 0), "logical");
  // REPLICA IDENTITY FULL ('f') on the three captured tables.
  EXPECT_EQ(count(*web,
                  "SELECT count(*) FROM pg_class WHERE relname IN ('drivers','vehicles','trips') AND "
                  "relreplident = 'f'"),
            3);

  auto dw = pg::Connection::connect(cfg_.warehouse);
  ASSERT_TRUE(dw.ok()) << dw.error().message;
  EXPECT_EQ(count(*dw, "SELECT count(*) FROM fleetpipe_schema_migrations"), migration_files("warehouse"));
  EXPECT_EQ(count(*dw, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"), 10);
}

TEST_F(StackTest, CdcRoleReplicatesReadsAndWritesOnlyItsHeartbeat) {
  auto web = pg::Connection::connect(cfg_.webapp);
  ASSERT_TRUE(web.ok());
  auto role = web->query("SELECT rolreplication, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = $1",
                         cfg_.cdc.user);
  ASSERT_TRUE(role.ok());
  ASSERT_EQ(role->size(), 1);
  EXPECT_TRUE(*role->get<bool>(0, 0));
  EXPECT_FALSE(*role->get<bool>(0, 1));
  EXPECT_FALSE(*role->get<bool>(0, 2));
  auto cdc = pg::Connection::connect(cfg_.cdc);
  ASSERT_TRUE(cdc.ok()) << cdc.error().message;
  EXPECT_TRUE(cdc->query("SELECT count(*) FROM trips").ok());
  auto write = cdc->exec("DELETE FROM trips WHERE id = -1");
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.error().message.find("42501"), std::string::npos)
      << write.error().message;  // permission denied
  // Its one write: Debezium's heartbeat row (sql/webapp/008_cdc_heartbeat.sql), published with the tables.
  EXPECT_TRUE(cdc->exec("UPDATE cdc_heartbeat SET beat_at = now() WHERE id = 1").ok());
  auto other = cdc->exec("UPDATE trips SET latitude = latitude WHERE id = -1");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "42501");
  EXPECT_EQ(count(*web,
                  "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'webapp_cdc' AND tablename "
                  "IN ('trips', 'vehicles', 'drivers', 'cdc_heartbeat')"),
            4);
  EXPECT_EQ(count(*web, "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'webapp_cdc'"), 4);
}

TEST_F(StackTest, DeclaredTopicsExistWithTheirPartitions) {
  std::ifstream in("config/topics.json");
  ASSERT_TRUE(in) << "run from the repository root";
  auto doc = nlohmann::json::parse(in);
  kafka::AdminOptions opts;
  opts.bootstrap = cfg_.kafka_bootstrap;
  auto admin = kafka::Admin::create(opts);
  ASSERT_TRUE(admin.ok());
  for (const auto& t : doc["topics"]) {
    auto info = (*admin)->describe_topic(t["name"]);
    ASSERT_TRUE(info.ok()) << t["name"] << ": " << info.error().message;
    EXPECT_GE(info->info.partitions, t["partitions"].get<int>()) << t["name"];
    for (const auto& [k, v] : t["config"].items())
      EXPECT_EQ(info->configs[k], v.get<std::string>()) << t["name"] << " " << k;
  }
}

TEST_F(StackTest, ConnectorRunsAndKeepsItsPasswordOutOfTheApi) {
  auto status = http::get(cfg_.connect_url + "/connectors/webapp-cdc/status");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(status->status, 200);
  auto s = nlohmann::json::parse(status->body);
  EXPECT_EQ(s["connector"]["state"], "RUNNING");
  ASSERT_FALSE(s["tasks"].empty());
  for (const auto& t : s["tasks"]) EXPECT_EQ(t["state"], "RUNNING");
  auto config = http::get(cfg_.connect_url + "/connectors/webapp-cdc/config");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->body.find(cfg_.cdc.password), std::string::npos)
      << "the CDC password is visible via REST";
}

TEST_F(StackTest, BucketExistsAndUnsignedRequestsAreRefused) {
  s3::Client client(cfg_.s3);
  auto exists = client.bucket_exists();
  ASSERT_TRUE(exists.ok()) << exists.error().message;
  EXPECT_TRUE(*exists);
  auto anon = http::get(cfg_.s3.endpoint + "/" + cfg_.s3.bucket + "?list-type=2");
  ASSERT_TRUE(anon.ok());
  EXPECT_EQ(anon->status, 403);
}

TEST_F(StackTest, CredentialsFileIsPrivate) {
  struct stat st {};
  ASSERT_EQ(stat((cfg_.state_dir / "credentials.env").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

}  // namespace
}  // namespace fp
