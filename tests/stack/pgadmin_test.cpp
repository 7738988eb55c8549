#include "stack/pgadmin.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fp::stack {
namespace {

TEST(PgAdminTest, StorageNameFollowsPgAdminsRule) {
  EXPECT_EQ(pgadmin_storage_name("admin@fleetpipe.local"), "admin_fleetpipe.local");
  EXPECT_EQ(pgadmin_storage_name("9ops@example.com"), "pga_user_9ops_example.com");
  EXPECT_EQ(pgadmin_storage_name("a/b\\c@x.y"), "aslashbslashc_x.y");
}

TEST(PgAdminTest, PgpassEscapesSeparatorsAndBackslashes) {
  PgConfig pg{
      "db.internal", 5433, "webapp", "fleet:pipe", "p:a\\ss",
  };
  EXPECT_EQ(pgpass_line(pg), "db.internal:5433:*:fleet\\:pipe:p\\:a\\\\ss\n");
}

TEST(PgAdminTest, PythonLiteralsAreQuotedAndControlCharactersRefused) {
  EXPECT_EQ(*python_string_literal("/var/lib/it's"), "'/var/lib/it\\'s'");
  EXPECT_EQ(*python_string_literal("C:\\x"), "'C:\\\\x'");
  EXPECT_FALSE(python_string_literal("a\nDEFAULT_SERVER = '0.0.0.0'").ok());
}

TEST(PgAdminTest, ServersJsonRegistersBothDatabasesFromConfig) {
  Config cfg;
  cfg.webapp = {"localhost", 45433, "webapp", "fleetpipe", "secret-1"};
  cfg.warehouse = {"dw.example", 45434, "warehouse", "dw_user", "secret-2"};
  const auto text = pgadmin_servers_json(cfg);
  EXPECT_EQ(text.find("secret-"), std::string::npos) << "passwords belong in the pgpass file only";
  const auto j = nlohmann::json::parse(text);
  ASSERT_EQ(j["Servers"].size(), 2u);
  const auto& w = j["Servers"]["1"];
  EXPECT_EQ(w["Name"], "webapp");
  EXPECT_EQ(w["Port"], 45433);  // an integer: load-servers rejects a string
  EXPECT_EQ(w["MaintenanceDB"], "webapp");
  EXPECT_EQ(w["ConnectionParameters"]["passfile"], "/pgpass");
  const auto& d = j["Servers"]["2"];
  EXPECT_EQ(d["Name"], "warehouse");
  EXPECT_EQ(d["Host"], "dw.example");
  EXPECT_EQ(d["Username"], "dw_user");
  EXPECT_EQ(d["Group"], w["Group"]);
}

TEST(PgAdminTest, RegistrationCheckFindsAMissingOrChangedServer) {
  Config cfg;
  cfg.webapp = {"localhost", 45433, "webapp", "fleetpipe", "x"};
  cfg.warehouse = {"localhost", 45434, "warehouse", "fleetpipe", "y"};
  const auto wanted = pgadmin_servers_json(cfg);
  // What dump-servers writes: the same shape, with its own keys.
  auto dumped = nlohmann::json::parse(wanted);
  dumped["Servers"]["7"] = dumped["Servers"]["1"];
  dumped["Servers"]["8"] = dumped["Servers"]["2"];
  dumped["Servers"].erase("1");
  dumped["Servers"].erase("2");
  EXPECT_EQ(*pgadmin_missing_servers(wanted, dumped.dump()), "");
  dumped["Servers"]["8"]["Port"] = 5434;
  EXPECT_EQ(*pgadmin_missing_servers(wanted, dumped.dump()), "warehouse");
  EXPECT_EQ(*pgadmin_missing_servers(wanted, R"({"Servers": {}})"), "webapp");
  EXPECT_FALSE(pgadmin_missing_servers(wanted, "User not found").ok());
}

}  // namespace
}  // namespace fp::stack
