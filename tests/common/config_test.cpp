#include "common/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "temp_dir.h"

namespace fp {
namespace {

Config::Lookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigTest, DefaultsPointAtTheNativeStack) {
  auto c = Config::load(env_of({}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->webapp.port, 5433);
  EXPECT_EQ(c->warehouse.port, 5434);
  EXPECT_EQ(c->webapp.host, "localhost");
  EXPECT_EQ(c->kafka_bootstrap, "localhost:9092");
  EXPECT_EQ(c->s3.endpoint, "http://localhost:9000");
  EXPECT_EQ(c->s3.bucket, "raw");
  EXPECT_TRUE(c->s3.path_style);
  EXPECT_EQ(c->pgadmin.port, 5050);
  EXPECT_EQ(c->pgadmin.email, "admin@fleetpipe.local");
  // Six of the stack's, five services' logins.
  EXPECT_EQ(c->missing_secrets().size(), 11u);
}

TEST(ConfigTest, LifecycleDefaultsToAWeekInDailyPartitions) {
  auto c = Config::load(env_of({}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->lifecycle.trips_hot_window, std::chrono::hours(24 * 7));
  EXPECT_EQ(c->lifecycle.trips_partition_interval, std::chrono::hours(24));
  auto scaled = Config::load(
      env_of({{"FLEETPIPE_TRIPS_HOT_WINDOW", "30m"}, {"FLEETPIPE_TRIPS_PARTITION_INTERVAL", "10m"}}));
  ASSERT_TRUE(scaled.ok()) << scaled.error().message;
  EXPECT_EQ(scaled->lifecycle.trips_hot_window, std::chrono::minutes(30));
  EXPECT_EQ(scaled->lifecycle.trips_partition_interval, std::chrono::minutes(10));
  EXPECT_EQ(scaled->to_json()["lifecycle"]["trips_hot_window_minutes"], 30);
}

TEST(ConfigTest, LifecycleRefusesPartitionsThatStraddleDaysOrOutgrowTheWindow) {
  for (const auto& [var, value] : std::vector<std::pair<std::string, std::string>>{
           {"FLEETPIPE_TRIPS_PARTITION_INTERVAL", "7m"},  // 1440 is not a multiple of 7
           {"FLEETPIPE_TRIPS_PARTITION_INTERVAL", "2d"},  // longer than a day
           {"FLEETPIPE_TRIPS_HOT_WINDOW", "10h"},         // shorter than a day's partition
           {"FLEETPIPE_TRIPS_HOT_WINDOW", "0d"},          // nothing kept
           {"FLEETPIPE_TRIPS_HOT_WINDOW", "7 days"},      // not a unit we read
           {"FLEETPIPE_TRIPS_HOT_WINDOW", "-1h"}}) {
    auto c = Config::load(env_of({{var, value}}));
    ASSERT_FALSE(c.ok()) << var << "=" << value;
    EXPECT_NE(c.error().message.find(var), std::string::npos) << c.error().message;
  }
}

TEST(ConfigTest, RawRetentionKeepsEverythingUnlessSet) {
  auto c = Config::load(env_of({}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->lifecycle.warehouse_raw_retention.has_value());
  EXPECT_TRUE(c->to_json()["lifecycle"]["warehouse_raw_retention_minutes"].is_null());
  auto all = Config::load(env_of({{"FLEETPIPE_WAREHOUSE_RAW_RETENTION", "all"}}));
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_FALSE(all->lifecycle.warehouse_raw_retention.has_value());
  auto month = Config::load(env_of({{"FLEETPIPE_WAREHOUSE_RAW_RETENTION", "30d"}}));
  ASSERT_TRUE(month.ok()) << month.error().message;
  EXPECT_EQ(month->lifecycle.warehouse_raw_retention, std::chrono::hours(24 * 30));
  EXPECT_EQ(month->to_json()["lifecycle"]["warehouse_raw_retention_minutes"], 30 * 1440);
}

TEST(ConfigTest, RawRetentionMustOutliveTheHotWindowByAPartition) {
  // The default window (7 d) and partition (1 d): 8 d is the least, 7 d is refused with the reason.
  EXPECT_TRUE(Config::load(env_of({{"FLEETPIPE_WAREHOUSE_RAW_RETENTION", "8d"}})).ok());
  auto short_one = Config::load(env_of({{"FLEETPIPE_WAREHOUSE_RAW_RETENTION", "7d"}}));
  ASSERT_FALSE(short_one.ok());
  EXPECT_NE(short_one.error().message.find("FLEETPIPE_WAREHOUSE_RAW_RETENTION=7d is shorter than"),
            std::string::npos)
      << short_one.error().message;
  EXPECT_NE(short_one.error().message.find("11520m"), std::string::npos) << short_one.error().message;
  // A scaled-down day: 30 min window in 10 min partitions allows 40 min.
  const std::map<std::string, std::string> scaled = {{"FLEETPIPE_TRIPS_HOT_WINDOW", "30m"},
                                                     {"FLEETPIPE_TRIPS_PARTITION_INTERVAL", "10m"}};
  auto with = [&](const char* v) {
    auto env = scaled;
    env["FLEETPIPE_WAREHOUSE_RAW_RETENTION"] = v;
    return Config::load(env_of(env));
  };
  EXPECT_TRUE(with("40m").ok());
  EXPECT_FALSE(with("39m").ok());
  EXPECT_FALSE(with("forever").ok());
}

TEST(ConfigTest, BucketCompactionDefaultsAndBounds) {
  auto c = Config::load(env_of({}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->lifecycle.bucket_compact_after, std::chrono::hours(1));
  EXPECT_EQ(c->lifecycle.bucket_compact_target_bytes, 128 << 20);
  auto set = Config::load(
      env_of({{"FLEETPIPE_BUCKET_COMPACT_AFTER", "6h"}, {"FLEETPIPE_BUCKET_COMPACT_TARGET", "1GiB"}}));
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->lifecycle.bucket_compact_after, std::chrono::hours(6));
  EXPECT_EQ(set->to_json()["lifecycle"]["bucket_compact_target_bytes"], int64_t{1} << 30);
  for (const auto& [var, value] : std::vector<std::pair<std::string, std::string>>{
           {"FLEETPIPE_BUCKET_COMPACT_TARGET", "512KiB"},  // not large
           {"FLEETPIPE_BUCKET_COMPACT_TARGET", "6GiB"},    // a temporary file too large
           {"FLEETPIPE_BUCKET_COMPACT_TARGET", "lots"},
           {"FLEETPIPE_BUCKET_COMPACT_AFTER", "0m"}}) {
    auto bad = Config::load(env_of({{var, value}}));
    ASSERT_FALSE(bad.ok()) << var << "=" << value;
    EXPECT_NE(bad.error().message.find(var), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, ParseMinutesReadsMinutesHoursAndDays) {
  EXPECT_EQ(parse_minutes("X", "90m").value(), std::chrono::minutes(90));
  EXPECT_EQ(parse_minutes("X", "12h").value(), std::chrono::minutes(720));
  EXPECT_EQ(parse_minutes("X", "7d").value(), std::chrono::minutes(7 * 1440));
  EXPECT_FALSE(parse_minutes("X", "").ok());
  EXPECT_FALSE(parse_minutes("X", "h").ok());
  EXPECT_FALSE(parse_minutes("X", "5").ok());
  EXPECT_FALSE(parse_minutes("X", "5s").ok());
  EXPECT_FALSE(parse_minutes("X", "99999999999d").ok());
}

TEST(ConfigTest, EachServiceLogsInAsItsOwnRoleOnTheConfiguredServer) {
  auto c = Config::load(env_of({{"POSTGRES_HOST", "db.internal"},
                                {"POSTGRES_USER", "admin"},
                                {"POSTGRES_PASSWORD", "adminpw"},
                                {"DW_POSTGRES_DB", "dw"},
                                {"FLEETPIPE_APP_DB_PASSWORD", "apppw"},
                                {"FLEETPIPE_PIPELINE_DB_USER", "etl"},
                                {"FLEETPIPE_PIPELINE_DB_PASSWORD", "etlpw"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto app = c->webapp_as(DbService::kApp);
  EXPECT_EQ(app.host, "db.internal");
  EXPECT_EQ(app.user, "fleetpipe_app");
  EXPECT_EQ(app.password, "apppw");
  const auto etl = c->warehouse_as(DbService::kPipeline);
  EXPECT_EQ(etl.dbname, "dw");
  EXPECT_EQ(etl.user, "etl");
  EXPECT_EQ(etl.password, "etlpw");
  EXPECT_EQ(c->webapp_as(DbService::kRealtime).user, "fleetpipe_realtime");
  // The administrator stays what provisioning uses.
  EXPECT_EQ(c->webapp.user, "admin");
  const auto missing = c->missing_secrets();
  EXPECT_EQ(std::count(missing.begin(), missing.end(), "FLEETPIPE_APP_DB_PASSWORD"), 0);
  EXPECT_EQ(std::count(missing.begin(), missing.end(), "FLEETPIPE_CONSOLE_DB_PASSWORD"), 1);
  EXPECT_EQ(c->to_json()["service_logins"]["pipeline"]["password"], "****");
  EXPECT_EQ(c->to_json()["service_logins"]["pipeline"]["user"], "etl");
}

TEST(ConfigTest, PgAdminLoginAndPortFromTheSeedsNames) {
  auto c = Config::load(env_of({{"PGADMIN_DEFAULT_EMAIL", "ops@example.com"},
                                {"PGADMIN_DEFAULT_PASSWORD", "longenough"},
                                {"PGADMIN_PORT", "45050"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->pgadmin.email, "ops@example.com");
  EXPECT_EQ(c->pgadmin.port, 45050);
  EXPECT_EQ(c->to_json()["pgadmin"]["password"], "****");
  auto short_pw = Config::load(env_of({{"PGADMIN_DEFAULT_PASSWORD", "abc"}}));
  ASSERT_FALSE(short_pw.ok());
  EXPECT_NE(short_pw.error().message.find("PGADMIN_DEFAULT_PASSWORD"), std::string::npos);
  EXPECT_FALSE(Config::load(env_of({{"PGADMIN_DEFAULT_EMAIL", "nobody"}})).ok());
  EXPECT_FALSE(Config::load(env_of({{"PGADMIN_PORT", "0"}})).ok());
}

TEST(ConfigTest, SeedVariableNamesAreHonoured) {
  auto c = Config::load(env_of({{"POSTGRES_HOST", "db.internal"},
                                {"POSTGRES_PORT", "6000"},
                                {"POSTGRES_PASSWORD", "pw"},
                                {"DW_POSTGRES_DB", "dw"},
                                {"AWS_END_POINT", "minio:9000"},
                                {"S3_BUCKET_NAME", "landing"},
                                {"KAFKA_BOOTSTRAP_SERVERS", "redpanda:9092"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->webapp.host, "db.internal");
  EXPECT_EQ(c->webapp.port, 6000);
  EXPECT_EQ(c->cdc.host, "db.internal");  // CDC reads the same server
  EXPECT_EQ(c->warehouse.dbname, "dw");
  EXPECT_EQ(c->s3.endpoint, "http://minio:9000");  // scheme added to the seed's bare host:port
  EXPECT_EQ(c->s3.bucket, "landing");
  EXPECT_EQ(c->kafka_bootstrap, "redpanda:9092");
}

TEST(ConfigTest, AwsEndpointUrlWinsOverSeedName) {
  auto c = Config::load(env_of(
      {{"AWS_ENDPOINT_URL", "https://s3.eu-west-1.amazonaws.com/"}, {"AWS_END_POINT", "http://old:9000"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
}

TEST(ConfigTest, BadPortIsAnErrorNamingTheVariable) {
  auto c = Config::load(env_of({{"DW_POSTGRES_PORT", "54x"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("DW_POSTGRES_PORT"), std::string::npos);
  EXPECT_FALSE(Config::load(env_of({{"POSTGRES_PORT", "70000"}})).ok());
  EXPECT_FALSE(Config::load(env_of({{"S3_ADDRESSING_STYLE", "sideways"}})).ok());
}

TEST(ConfigTest, SecretsAreMaskedUnlessRevealed) {
  auto c = Config::load(env_of({{"POSTGRES_PASSWORD", "hunter2"}, {"AWS_SECRET_ACCESS_KEY", "s3cr3t"}}));
  ASSERT_TRUE(c.ok());
  const std::string masked = c->to_json().dump();
  EXPECT_EQ(masked.find("hunter2"), std::string::npos);
  EXPECT_EQ(masked.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(c->to_json()["webapp"]["password"], "****");
  EXPECT_TRUE(c->to_json()["warehouse"]["password"].is_null());
  EXPECT_EQ(c->to_json(true)["webapp"]["password"], "hunter2");
}

TEST(ConfigTest, ConninfoQuotesValues) {
  PgConfig p{
      "h", 5, "d b", "u'x", "p\\w",
  };
  const auto s = p.conninfo(3);
  EXPECT_NE(s.find("dbname='d b'"), std::string::npos);
  EXPECT_NE(s.find("user='u\\'x'"), std::string::npos);
  EXPECT_NE(s.find("password='p\\\\w'"), std::string::npos);
  EXPECT_NE(s.find("connect_timeout=3"), std::string::npos);
}

class CredentialsFileTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    for (const auto& n : generated_secret_names()) unsetenv(n.c_str());
  }
};

TEST_F(CredentialsFileTest, GeneratesEachSecretOnceWithPrivateMode) {
  ASSERT_TRUE(ensure_credentials_file(dir_).ok());
  auto first = read_env_file(dir_ / "credentials.env");
  ASSERT_TRUE(first.ok());
  for (const auto& n : generated_secret_names()) {
    ASSERT_TRUE(first->count(n)) << n;
    EXPECT_GE(first->at(n).size(), 15u) << n;
  }
  EXPECT_NE(first->at("POSTGRES_PASSWORD"), first->at("DW_POSTGRES_PASSWORD"));
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "credentials.env").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // A second run keeps the values.
  ASSERT_TRUE(ensure_credentials_file(dir_).ok());
  auto second = read_env_file(dir_ / "credentials.env");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

TEST_F(CredentialsFileTest, EnvironmentProvidedSecretsAreNotWritten) {
  setenv("POSTGRES_PASSWORD", "from-env", 1);
  ASSERT_TRUE(ensure_credentials_file(dir_).ok());
  unsetenv("POSTGRES_PASSWORD");
  auto m = read_env_file(dir_ / "credentials.env");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->count("POSTGRES_PASSWORD"));
  EXPECT_TRUE(m->count("DW_POSTGRES_PASSWORD"));
}

TEST_F(CredentialsFileTest, EnvFileParsing) {
  std::ofstream(dir_ / "x.env") << "# comment\n\nA=1\nexport B = \"two words\"\nC='q'\n";
  auto m = read_env_file(dir_ / "x.env");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->at("A"), "1");
  EXPECT_EQ(m->at("B"), "two words");
  EXPECT_EQ(m->at("C"), "q");
  std::ofstream(dir_ / "bad.env") << "novalue\n";
  auto bad = read_env_file(dir_ / "bad.env");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(":1:"), std::string::npos);
  EXPECT_EQ(read_env_file(dir_ / "absent.env").error().kind, Error::Kind::kNotFound);
}

// FLEETPIPE_KAFKA_DISK_BUDGET: unset means the default worked out at `up`; set, it must be a size.
TEST(ConfigKafkaBudgetTest, UnsetMeansTheDefault) {
  auto c = Config::load(env_of({}));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->kafka_disk_budget.has_value());
  EXPECT_TRUE(c->to_json()["kafka_disk_budget_bytes"].is_null());
}

TEST(ConfigKafkaBudgetTest, AcceptsSizesWithUnits) {
  auto c = Config::load(env_of({{"FLEETPIPE_KAFKA_DISK_BUDGET", "20GiB"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->kafka_disk_budget, int64_t{20} << 30);
  EXPECT_EQ(c->to_json()["kafka_disk_budget_bytes"], int64_t{20} << 30);
}

TEST(ConfigKafkaBudgetTest, RefusesWhatIsNotAPositiveSize) {
  for (const char* bad : {"lots", "0", "-5GiB", "20 GB of disk"}) {
    auto c = Config::load(env_of({{"FLEETPIPE_KAFKA_DISK_BUDGET", bad}}));
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().kind, Error::Kind::kInvalidInput) << bad;
    EXPECT_NE(c.error().message.find("FLEETPIPE_KAFKA_DISK_BUDGET"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace fp
