// fp::pg and fp::migrate against a real PostgreSQL: the webapp database from fp::Config::load()
// (POSTGRES_HOST/PORT/DB/USER/PASSWORD). Each test works in its own scratch schema, dropped afterwards;
// the application's tables are never touched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/config.h"
#include "common/pg/client.h"
#include "common/pg/connection.h"
#include "common/pg/error.h"
#include "common/pg/migrate.h"

namespace fp::pg {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

class PgIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Config::load();
    ASSERT_TRUE(c.ok()) << c.error().message;
    cfg_ = c->webapp;
    std::random_device rd;
    schema_ = fmt::format("fp_test_{}_{:08x}", getpid(), rd());
    auto admin = Connection::connect(cfg_, quick());
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    ASSERT_TRUE(admin->exec("CREATE SCHEMA " + schema_).ok());
    opts_ = quick();
    opts_.settings = {{"search_path", schema_}};
    auto conn = Connection::connect(cfg_, opts_);
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    conn_.emplace(std::move(conn).value());
  }
  void TearDown() override {
    conn_.reset();
    auto admin = Connection::connect(cfg_, quick());
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    auto st = admin->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  static ConnectOptions quick() {
    ConnectOptions o;
    o.statement_timeout = 20s;
    o.client_grace = 2s;
    o.backoff = Backoff{std::chrono::milliseconds(50), std::chrono::milliseconds(500), 4};
    return o;
  }
  int64_t scalar(const std::string& sql) {
    auto r = conn_->query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.error().message;
    if (!r.ok()) return -1;
    auto v = r->get<int64_t>(0, 0);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : -1;
  }
  // Terminates a session from another connection and waits until its backend is gone.
  void terminate(int pid) {
    auto killer = Connection::connect(cfg_, quick());
    ASSERT_TRUE(killer.ok()) << killer.error().message;
    auto r = killer->query("SELECT pg_terminate_backend($1, 5000)", pid);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(*r->get<bool>(0, 0), true);
  }

  PgConfig cfg_;
  ConnectOptions opts_;
  std::string schema_;
  std::optional<Connection> conn_;
};

TEST_F(PgIntegration, HostileStringsRoundTripAsParameters) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE notes (id int PRIMARY KEY, body text)").ok());
  const std::vector<std::string> hostile = {"'; DROP TABLE notes; --",
                                            "it's",
                                            "back\\slash\\",
                                            "\"double\"",
                                            "$1 $2 ?",
                                            "ünïcødé ✓ 車両 🚚",
                                            "line\nbreak\ttab",
                                            "",
                                            "%s %n {}",
                                            "E'\\x00'",
                                            std::string(10000, '\'')};
  for (size_t i = 0; i < hostile.size(); ++i) {
    auto r = conn_->query("INSERT INTO notes (id, body) VALUES ($1, $2)", static_cast<int>(i), hostile[i]);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->affected(), 1);
  }
  for (size_t i = 0; i < hostile.size(); ++i) {
    auto r = conn_->query("SELECT body, length(body) AS n FROM notes WHERE id = $1", static_cast<int>(i));
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 1);
    EXPECT_EQ(*r->get<std::string>(0, "body"), hostile[i]);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM notes"), static_cast<int64_t>(hostile.size()));
  auto nul = conn_->query("SELECT $1::text", std::string("a\0b", 3));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().kind, Error::Kind::kInvalidInput);
}

TEST_F(PgIntegration, TypedGettersAndNulls) {
  auto r = conn_->query("SELECT $1::bigint AS i, $2::float8 AS d, $3::text AS s, $4::int AS n, $5::bool AS b",
                        int64_t{-9007199254740993}, 0.1, "txt", std::nullopt, true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r->get<int64_t>(0, "i"), -9007199254740993);
  EXPECT_EQ(*r->get<double>(0, "d"), 0.1);
  EXPECT_EQ(*r->get<std::string>(0, 2), "txt");
  EXPECT_EQ(*r->get<bool>(0, "b"), true);
  EXPECT_EQ(*r->get<std::optional<int64_t>>(0, "n"), std::nullopt);
  EXPECT_EQ(*r->get<std::optional<int64_t>>(0, "i"), std::optional<int64_t>(-9007199254740993));
  auto null_as_value = r->get<int64_t>(0, "n");
  ASSERT_FALSE(null_as_value.ok());
  EXPECT_TRUE(contains(null_as_value.error().message, "NULL")) << null_as_value.error().message;
  EXPECT_EQ(r->get<int64_t>(0, "s").error().kind, Error::Kind::kInvalidInput);
  EXPECT_EQ(r->get<int64_t>(0, "missing").error().kind, Error::Kind::kNotFound);
  EXPECT_FALSE(r->get<int64_t>(1, 0).ok());
  auto opt = conn_->query("SELECT $1::int, $2::text", std::optional<int>{3}, std::optional<std::string>{});
  ASSERT_TRUE(opt.ok()) << opt.error().message;
  EXPECT_EQ(*opt->get<int32_t>(0, 0), 3);
  EXPECT_EQ(*opt->get<std::optional<std::string>>(0, 1), std::nullopt);
}

TEST_F(PgIntegration, ServerErrorsCarrySqlstateDetailAndHint) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE u (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn_->query("INSERT INTO u VALUES ($1)", 1).ok());
  auto dup = conn_->query("INSERT INTO u VALUES ($1)", 1);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().kind, Error::Kind::kInvalidInput);
  EXPECT_TRUE(contains(dup.error().message, "23505")) << dup.error().message;
  EXPECT_TRUE(contains(dup.error().message, "detail: Key (k)=(1) already exists")) << dup.error().message;
  auto hint = conn_->query("SELECT * FROM u WHERE k = 'x' || 1");
  ASSERT_FALSE(hint.ok());
  EXPECT_TRUE(contains(hint.error().message, "hint:")) << hint.error().message;
  auto missing = conn_->query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Error::Kind::kNotFound);
  EXPECT_TRUE(contains(missing.error().message, "42P01")) << missing.error().message;
  EXPECT_TRUE(conn_->is_healthy());
}

// A real duplicate key carries SQLSTATE 23505 in Error::code, whether a statement or a COPY (failing
// mid-stream, with rows still coming after the duplicate) hits it, and through added context.
TEST_F(PgIntegration, UniqueViolationCarriesItsSqlstate) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE u (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn_->query("INSERT INTO u VALUES ($1)", 1).ok());
  auto dup = conn_->query("INSERT INTO u VALUES ($1)", 1);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "23505") << dup.error().message;
  EXPECT_TRUE(is_unique_violation(dup.error())) << dup.error().message;
  EXPECT_TRUE(is_unique_violation(dup.error().context("insert")));
  auto other = conn_->query("INSERT INTO u VALUES ($1)", "not a number");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "22P02") << other.error().message;
  EXPECT_FALSE(is_unique_violation(other.error()));

  auto copy = conn_->copy_in("COPY u (k) FROM STDIN");
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  std::optional<Error> failed;
  for (int k = 2; k <= 50'000 && !failed; ++k) {
    auto st = copy->write(fmt::format("{}\n", k == 1000 ? 1 : k));
    if (!st.ok()) failed = std::move(st).error();
  }
  if (!failed) {
    auto n = copy->finish();
    ASSERT_FALSE(n.ok()) << "COPY stored a duplicate key";
    failed = std::move(n).error();
  }
  EXPECT_EQ(failed->code, "23505") << failed->message;
  EXPECT_TRUE(is_unique_violation(*failed)) << failed->message;
  EXPECT_EQ(scalar("SELECT count(*) FROM u"), 1);
  EXPECT_TRUE(conn_->is_healthy());
}

TEST_F(PgIntegration, PreparedStatements) {
  ASSERT_TRUE(conn_->prepare("add", "SELECT $1::int + $2::int").ok());
  for (int i = 0; i < 3; ++i) {
    auto r = conn_->exec_prepared("add", i, 10);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r->get<int64_t>(0, 0), i + 10);
  }
  EXPECT_FALSE(conn_->exec_prepared("nope").ok());
}

TEST_F(PgIntegration, CopyIn100kRowsThenCopyOutTheSame) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE trips (id bigint, driver text, km float8)").ok());
  constexpr int kRows = 100'000;
  std::string expected;
  auto copy = conn_->copy_in("COPY trips (id, driver, km) FROM STDIN (FORMAT csv)");
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_TRUE(conn_->copy_in_progress());
  EXPECT_FALSE(conn_->query("SELECT 1").ok());  // the connection belongs to the COPY
  for (int i = 1; i <= kRows; ++i) {
    // Every thousandth driver needs CSV quoting; PostgreSQL quotes it the same way on the way out.
    std::string line = i % 1000 == 0 ? fmt::format("{},\"O'Brien, \"\"Jr\"\" {}\",{}\n", i, i, i * 0.25)
                                     : fmt::format("{},driver {},{}\n", i, i % 97, i * 0.25);
    expected += line;
    auto st = copy->write(line);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  auto n = copy->finish();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, kRows);
  EXPECT_FALSE(conn_->copy_in_progress());
  EXPECT_EQ(scalar("SELECT count(*) FROM trips"), kRows);
  EXPECT_EQ(scalar("SELECT sum(id) FROM trips"), int64_t{kRows} * (kRows + 1) / 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM trips WHERE driver LIKE 'O''Brien, \"Jr\" %'"), kRows / 1000);

  std::string out;
  size_t chunks = 0, biggest = 0;
  auto rows = conn_->copy_out("COPY (SELECT id, driver, km FROM trips ORDER BY id) TO STDOUT (FORMAT csv)",
                              [&](std::string_view chunk) {
                                ++chunks;
                                biggest = std::max(biggest, chunk.size());
                                out.append(chunk);
                                return ok_status();
                              });
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(*rows, kRows);
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_TRUE(out == expected);
  EXPECT_GT(chunks, 10u);                           // streamed, not one buffer
  EXPECT_LT(biggest, CopyIn::kBatchBytes + 1024u);  // bounded by one batch plus one row
  EXPECT_TRUE(conn_->is_healthy());
}

TEST_F(PgIntegration, CopyWithOneBadRowStoresNothing) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE trips (id bigint, km float8)").ok());
  auto copy = conn_->copy_in("COPY trips (id, km) FROM STDIN (FORMAT csv)");
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  for (int i = 0; i < 20'000; ++i) {
    auto st = copy->write(i == 12'345 ? "12345,not-a-number\n" : fmt::format("{},{}\n", i, i));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  auto n = copy->finish();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, Error::Kind::kInvalidInput);
  EXPECT_TRUE(contains(n.error().message, "22P02")) << n.error().message;
  EXPECT_TRUE(contains(n.error().message, "not-a-number")) << n.error().message;
  EXPECT_EQ(scalar("SELECT count(*) FROM trips"), 0);
}

TEST_F(PgIntegration, AbandonedCopyIsAbortedAndStoresNothing) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE t (id int)").ok());
  {
    auto copy = conn_->copy_in("COPY t FROM STDIN");
    ASSERT_TRUE(copy.ok()) << copy.error().message;
    ASSERT_TRUE(copy->write("1\n2\n3\n").ok());
  }  // destroyed without finish()
  EXPECT_EQ(scalar("SELECT count(*) FROM t"), 0);
  auto copy = conn_->copy_in("COPY t FROM STDIN");
  ASSERT_TRUE(copy.ok());
  ASSERT_TRUE(copy->write("1\n").ok());
  ASSERT_TRUE(copy->abort("changed my mind").ok());
  EXPECT_EQ(scalar("SELECT count(*) FROM t"), 0);
  // A COPY statement through query() is refused and leaves the connection usable.
  auto wrong = conn_->query("COPY t TO STDOUT");
  EXPECT_FALSE(wrong.ok());
  auto not_copy = conn_->copy_in("SELECT 1");
  ASSERT_FALSE(not_copy.ok());
  EXPECT_EQ(not_copy.error().kind, Error::Kind::kInvalidInput);
  EXPECT_EQ(scalar("SELECT 7"), 7);
}

TEST_F(PgIntegration, CopyOutSinkErrorStopsTheCopy) {
  int calls = 0;
  auto r = conn_->copy_out("COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g) TO STDOUT",
                           [&](std::string_view) -> Status {
                             ++calls;
                             return make_error("disk full");
                           });
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "disk full")) << r.error().message;
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(scalar("SELECT 1"), 1);
}

TEST_F(PgIntegration, TransactionRollsBackOnScopeExit) {
  ASSERT_TRUE(conn_->exec("CREATE TABLE t (id int)").ok());
  {
    auto tx = conn_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    ASSERT_TRUE(conn_->query("INSERT INTO t VALUES ($1)", 1).ok());
    EXPECT_EQ(scalar("SELECT count(*) FROM t"), 1);
    EXPECT_FALSE(conn_->begin().ok());  // no nesting
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM t"), 0);
  {
    auto tx = conn_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn_->query("INSERT INTO t VALUES ($1)", 2).ok());
    ASSERT_TRUE(tx->commit().ok());
    EXPECT_FALSE(tx->commit().ok());
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM t"), 1);
  {
    // A failed statement aborts the transaction; COMMIT then reports the rollback instead of succeeding.
    auto tx = conn_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn_->query("INSERT INTO t VALUES ($1)", 3).ok());
    EXPECT_FALSE(conn_->query("SELECT 1/0").ok());
    auto st = tx->commit();
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(contains(st.error().message, "rolled back")) << st.error().message;
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM t"), 1);
}

TEST_F(PgIntegration, TransactionIsolationOption) {
  auto tx = conn_->begin({Isolation::kSerializable, true});
  ASSERT_TRUE(tx.ok()) << tx.error().message;
  auto r = conn_->query(
      "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r->get<std::string>(0, 0), "serializable");
  EXPECT_EQ(*r->get<std::string>(0, 1), "on");
  EXPECT_FALSE(conn_->exec("CREATE TABLE ro (x int)").ok());
}

TEST_F(PgIntegration, StatementTimeoutSurfacesAsError) {
  ASSERT_TRUE(conn_->set_statement_timeout(200ms).ok());
  EXPECT_EQ(conn_->statement_timeout(), 200ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = conn_->query("SELECT pg_sleep(5)");
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kTransient);
  EXPECT_TRUE(contains(r.error().message, "57014")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "statement timeout")) << r.error().message;
  EXPECT_LT(took, 3s);
  EXPECT_EQ(scalar("SELECT 1"), 1);
  auto tx = conn_->begin();
  ASSERT_TRUE(tx.ok());
  EXPECT_FALSE(conn_->set_statement_timeout(1s).ok());
}

TEST_F(PgIntegration, ClientCancelsWhenTheServerDoesNotTimeOut) {
  ConnectOptions o = opts_;
  o.statement_timeout = 300ms;
  o.client_grace = 300ms;
  auto c = Connection::connect(cfg_, o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  // Switch off the server-side limit behind the client's back: only the client's PQcancel can stop it.
  ASSERT_TRUE(c->exec("SET statement_timeout = 0").ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c->query("SELECT pg_sleep(30)");
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "57014")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "cancelled by the client")) << r.error().message;
  EXPECT_LT(took, 5s);
  auto again = c->query("SELECT 2");
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST_F(PgIntegration, ClientReconnectsAfterTerminateBetweenStatements) {
  auto client = Client::connect(cfg_, opts_);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE(client->exec("CREATE TABLE t (id int)").ok());
  ASSERT_TRUE(client->prepare("ins", "INSERT INTO t VALUES ($1)").ok());
  ASSERT_TRUE(client->exec_prepared("ins", 1).ok());
  const int pid = client->connection().backend_pid();
  terminate(pid);
  EXPECT_FALSE(client->connection().probe_alive());
  // The next statement runs on a fresh session with the same settings (search_path) and statements.
  auto r = client->exec_prepared("ins", 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(client->reconnects(), 1);
  EXPECT_NE(client->connection().backend_pid(), pid);
  auto n = client->query("SELECT count(*) FROM t");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n->get<int64_t>(0, 0), 2);
  EXPECT_TRUE(client->is_healthy());
}

TEST_F(PgIntegration, ClientNeverReconnectsInsideATransaction) {
  auto client = Client::connect(cfg_, opts_);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE(client->exec("CREATE TABLE t (id int)").ok());
  {
    auto tx = client->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    ASSERT_TRUE(client->query("INSERT INTO t VALUES (1)").ok());
    terminate(client->connection().backend_pid());
    auto r = client->query("INSERT INTO t VALUES (2)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, Error::Kind::kTransient);
    EXPECT_TRUE(contains(r.error().message, "inside a transaction")) << r.error().message;
    EXPECT_EQ(client->reconnects(), 0);
    EXPECT_FALSE(tx->commit().ok());
  }
  auto n = client->query("SELECT count(*) FROM t");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n->get<int64_t>(0, 0), 0);
  EXPECT_EQ(client->reconnects(), 1);
}

TEST_F(PgIntegration, PlainConnectionReportsLossAsTransient) {
  terminate(conn_->backend_pid());
  EXPECT_FALSE(conn_->is_healthy());
  auto r = conn_->query("SELECT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kTransient);
}

TEST_F(PgIntegration, ConnectFailuresAreClassified) {
  PgConfig bad = cfg_;
  bad.password = "definitely-wrong";
  auto t0 = std::chrono::steady_clock::now();
  auto auth = Connection::connect(bad, quick());
  ASSERT_FALSE(auth.ok());
  EXPECT_EQ(auth.error().kind, Error::Kind::kPermanent) << auth.error().message;
  EXPECT_FALSE(contains(auth.error().message, "definitely-wrong"));
  EXPECT_FALSE(contains(auth.error().message, "gave up"));  // not retried
  PgConfig closed = cfg_;
  closed.host = "127.0.0.1";
  closed.port = 1;
  auto refused = Connection::connect(closed, quick());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Error::Kind::kTransient) << refused.error().message;
  EXPECT_TRUE(contains(refused.error().message, "gave up after 4 attempts")) << refused.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST_F(PgIntegration, QuotingForIdentifiersAndLiterals) {
  auto ident = conn_->quote_identifier("weird \"table\"; drop");
  ASSERT_TRUE(ident.ok()) << ident.error().message;
  EXPECT_EQ(*ident, "\"weird \"\"table\"\"; drop\"");
  ASSERT_TRUE(conn_->exec("CREATE TABLE " + *ident + " (x int)").ok());
  auto lit = conn_->quote_literal("O'Brien \\ ");
  ASSERT_TRUE(lit.ok());
  auto r = conn_->query("SELECT " + *lit);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r->get<std::string>(0, 0), "O'Brien \\ ");
  EXPECT_EQ(
      scalar(fmt::format(
          "SELECT count(*) FROM pg_tables WHERE schemaname = '{}' AND tablename = 'weird \"table\"; drop'",
          schema_)),
      1);
}

TEST_F(PgIntegration, ListenNotify) {
  auto listener = Connection::connect(cfg_, opts_);
  ASSERT_TRUE(listener.ok());
  const std::string channel = schema_ + " trips";  // needs quoting
  ASSERT_TRUE(listener->listen(channel).ok());
  auto none = listener->wait_for_notify(100ms);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(conn_->notify(channel, "trip 42 it's done").ok());
  auto got = listener->wait_for_notify(5s);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->channel, channel);
  EXPECT_EQ((*got)->payload, "trip 42 it's done");
  EXPECT_EQ((*got)->backend_pid, conn_->backend_pid());
}

// ---- migrations ----

class PgMigrate : public PgIntegration {
 protected:
  void SetUp() override {
    PgIntegration::SetUp();
    dir_ = std::filesystem::temp_directory_path() / schema_;
    std::filesystem::create_directories(dir_);
    write("001_create_vehicles.sql", "CREATE TABLE vehicles (id int PRIMARY KEY, plate text NOT NULL);\n");
    write("002_seed.sql",
          "INSERT INTO vehicles VALUES (1, 'AB-123');\nINSERT INTO vehicles VALUES (2, 'CD-456');\n");
    write("README.md", "not a migration");
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    PgIntegration::TearDown();
  }
  void write(const std::string& name, const std::string& body) { std::ofstream(dir_ / name) << body; }
  std::filesystem::path dir_;
};

TEST_F(PgMigrate, AppliesInOrderOnceAndSecondRunIsANoOp) {
  auto first = migrate::apply(*conn_, dir_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM vehicles"), 2);
  auto recorded =
      conn_->query("SELECT version, name, checksum FROM fleetpipe_schema_migrations ORDER BY version");
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  ASSERT_EQ(recorded->size(), 2);
  EXPECT_EQ(*recorded->get<std::string>(1, "name"), "seed");
  EXPECT_EQ(recorded->get<std::string>(0, "checksum")->size(), 64u);
  auto second = migrate::apply(*conn_, dir_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM vehicles"), 2);
  write("003_more.sql", "ALTER TABLE vehicles ADD COLUMN model text;");
  auto third = migrate::apply(*conn_, dir_);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(*third, 1);
}

TEST_F(PgMigrate, ChangedFileIsAnErrorNamingIt) {
  ASSERT_TRUE(migrate::apply(*conn_, dir_).ok());
  write("002_seed.sql", "INSERT INTO vehicles VALUES (3, 'EF-789');\n");
  write("003_more.sql", "ALTER TABLE vehicles ADD COLUMN model text;");
  auto r = migrate::apply(*conn_, dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "002_seed.sql")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "changed")) << r.error().message;
  EXPECT_EQ(scalar("SELECT count(*) FROM fleetpipe_schema_migrations"), 2);  // 003 not applied either
}

TEST_F(PgMigrate, FailingMigrationLeavesNoTrace) {
  write("003_broken.sql", "ALTER TABLE vehicles ADD COLUMN model text;\nSELECT no_such_function();\n");
  auto r = migrate::apply(*conn_, dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "003_broken.sql")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "42883")) << r.error().message;
  EXPECT_EQ(scalar("SELECT count(*) FROM fleetpipe_schema_migrations"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                   "AND table_name = 'vehicles' AND column_name = 'model'"),
            0);
}

TEST_F(PgMigrate, BadNamesAndDuplicateVersionsAreRejected) {
  write("002_again.sql", "SELECT 1;");
  auto dup = migrate::apply(*conn_, dir_);
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(contains(dup.error().message, "share version 2")) << dup.error().message;
  std::filesystem::remove(dir_ / "002_again.sql");
  write("seed.sql", "SELECT 1;");
  auto bad = migrate::load_dir(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, Error::Kind::kInvalidInput);
  EXPECT_EQ(migrate::load_dir(dir_ / "missing").error().kind, Error::Kind::kNotFound);
}

TEST_F(PgMigrate, ConcurrentRunsApplyEachMigrationOnce) {
  for (int v = 3; v <= 12; ++v)
    write(fmt::format("{:03}_step.sql", v), fmt::format("INSERT INTO vehicles VALUES ({}, 'v{}');", v, v));
  std::atomic<int> applied{0}, failures{0};
  std::vector<std::thread> runners;
  for (int i = 0; i < 3; ++i)
    runners.emplace_back([&] {
      auto c = Connection::connect(cfg_, opts_);
      if (!c.ok()) return void(++failures);
      auto r = migrate::apply(*c, dir_);
      if (!r.ok()) {
        ADD_FAILURE() << r.error().message;
        return void(++failures);
      }
      applied += *r;
    });
  for (auto& t : runners) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), 12);
  EXPECT_EQ(scalar("SELECT count(*) FROM vehicles"), 12);
}

}  // namespace
}  // namespace fp::pg
