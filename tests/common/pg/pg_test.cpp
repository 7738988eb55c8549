// Unit tests for the parts of fp::pg that need no server: parameter conversion, value parsing, error
// classification by SQLSTATE (and the SQLSTATE kept in Error::code), and the connection string.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/config.h"
#include "common/pg/error.h"
#include "common/pg/migrate.h"
#include "common/pg/params.h"
#include "common/pg/rows.h"
#include "common/retry.h"

namespace fp::pg {
namespace {

TEST(PgParams, ConvertsScalarsToText) {
  const auto p = make_params(int64_t{-42}, 7, true, false, std::string("x"), "lit", std::string_view("sv"));
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p[0], "-42");
  EXPECT_EQ(p[1], "7");
  EXPECT_EQ(p[2], "true");
  EXPECT_EQ(p[3], "false");
  EXPECT_EQ(p[4], "x");
  EXPECT_EQ(p[5], "lit");
  EXPECT_EQ(p[6], "sv");
}

TEST(PgParams, ExtremeIntegers) {
  EXPECT_EQ(to_param(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(to_param(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
}

TEST(PgParams, DoublesRoundTripAndSpecialValues) {
  for (double d : {0.1, 1.0 / 3.0, -2.5e-300, 1e300, 123456789.125}) {
    auto text = to_param(d);
    ASSERT_TRUE(text);
    auto back = parse_text<double>(*text);
    ASSERT_TRUE(back.ok()) << *text;
    EXPECT_EQ(*back, d) << *text;
  }
  EXPECT_EQ(to_param(std::nan("")), "NaN");
  EXPECT_EQ(to_param(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(to_param(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(PgParams, NullsAndOptionals) {
  const auto p = make_params(std::nullopt, std::optional<int>{}, std::optional<int>{5},
                             std::optional<std::string>{"s"}, static_cast<const char*>(nullptr));
  EXPECT_FALSE(p[0]);
  EXPECT_FALSE(p[1]);
  EXPECT_EQ(p[2], "5");
  EXPECT_EQ(p[3], "s");
  EXPECT_FALSE(p[4]);
}

TEST(PgParams, HostileStringsPassThroughUnchanged) {
  // Parameters are never spliced into SQL, so nothing must be escaped or altered.
  const std::string hostile = "'; DROP TABLE trips; -- \\ \" $1 ünï©ødé";
  EXPECT_EQ(to_param(hostile), hostile);
  EXPECT_TRUE(validate_params(make_params(hostile)).ok());
}

TEST(PgParams, RejectsNulBytes) {
  auto st = validate_params(make_params("ok", std::string("a\0b", 3)));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, Error::Kind::kInvalidInput);
  EXPECT_NE(st.error().message.find("$2"), std::string::npos) << st.error().message;
}

TEST(PgParse, Integers) {
  EXPECT_EQ(*parse_text<int64_t>("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*parse_text<int32_t>("-17"), -17);
  EXPECT_FALSE(parse_text<int32_t>("3000000000").ok());
  EXPECT_FALSE(parse_text<int64_t>("12abc").ok());
  EXPECT_FALSE(parse_text<int64_t>("").ok());
  EXPECT_FALSE(parse_text<int64_t>("1.5").ok());
}

TEST(PgParse, DoublesInPostgresSpelling) {
  EXPECT_EQ(*parse_text<double>("1.5"), 1.5);
  EXPECT_TRUE(std::isnan(*parse_text<double>("NaN")));
  EXPECT_EQ(*parse_text<double>("Infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(*parse_text<double>("-Infinity"), -std::numeric_limits<double>::infinity());
  EXPECT_FALSE(parse_text<double>("1.5x").ok());
}

TEST(PgParse, Booleans) {
  EXPECT_TRUE(*parse_text<bool>("t"));
  EXPECT_FALSE(*parse_text<bool>("f"));
  EXPECT_FALSE(parse_text<bool>("yes").ok());
}

TEST(PgRows, EmptyRowsReportOutOfRange) {
  Rows rows;
  EXPECT_EQ(rows.size(), 0);
  auto v = rows.get<int64_t>(0, 0);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().kind, Error::Kind::kInvalidInput);
  EXPECT_EQ(rows.column("x").error().kind, Error::Kind::kNotFound);
}

TEST(PgErrors, ClassifiesSqlstates) {
  using K = Error::Kind;
  for (const char* s :
       {"40001", "40P01", "57P01", "57P02", "57P03", "08006", "08001", "57014", "55P03", "53300"})
    EXPECT_EQ(classify_sqlstate(s), K::kTransient) << s;
  for (const char* s : {"23505", "23502", "22P02", "22003"})
    EXPECT_EQ(classify_sqlstate(s), K::kInvalidInput) << s;
  for (const char* s : {"42P01", "3D000", "3F000"}) EXPECT_EQ(classify_sqlstate(s), K::kNotFound) << s;
  for (const char* s : {"42601", "42501", "XX000", "", "4000"})
    EXPECT_EQ(classify_sqlstate(s), K::kPermanent) << s;
}

TEST(PgErrors, ClassifiesConnectFailures) {
  using K = Error::Kind;
  EXPECT_EQ(
      classify_connect_failure("connection to server at \"127.0.0.1\", port 1 failed: Connection refused"),
      K::kTransient);
  EXPECT_EQ(classify_connect_failure("FATAL:  the database system is starting up"), K::kTransient);
  EXPECT_EQ(classify_connect_failure("FATAL:  the database system is shutting down"), K::kTransient);
  EXPECT_EQ(classify_connect_failure("timeout expired"), K::kTransient);
  EXPECT_EQ(classify_connect_failure("FATAL:  password authentication failed for user \"x\""), K::kPermanent);
  EXPECT_EQ(classify_connect_failure("FATAL:  database \"nope\" does not exist"), K::kPermanent);
  EXPECT_EQ(classify_connect_failure("FATAL:  no pg_hba.conf entry for host"), K::kPermanent);
}

TEST(PgErrors, NullResultWithoutConnectionIsTransient) {
  auto e = result_error(nullptr, nullptr, "query x");
  EXPECT_EQ(e.kind, Error::Kind::kTransient);
  EXPECT_EQ(e.message, "query x: no connection");
}

TEST(PgErrors, ErrorsWithoutSqlstateCarryNoCode) {
  EXPECT_EQ(result_error(nullptr, nullptr, "query x").code, "");
  EXPECT_EQ(connection_error(nullptr, "copy").code, "");
}

// The SQLSTATE travels in Error::code through every kind of wrapping, and only the code decides.
TEST(PgErrors, UniqueViolationIsTheCodeThroughContext) {
  const Error dup("insert trip: ERROR 23505: duplicate key value", Error::Kind::kInvalidInput, "23505");
  EXPECT_TRUE(is_unique_violation(dup));
  EXPECT_FALSE(is_cardinality_violation(dup));
  const Error twice("upsert: ERROR 21000: cannot affect row a second time", Error::Kind::kInvalidInput,
                    "21000");
  EXPECT_TRUE(is_cardinality_violation(twice.context("load")));
  EXPECT_FALSE(is_unique_violation(twice));
  const Error permanent = Error(dup).as(Error::Kind::kPermanent);  // a caller's re-kinding keeps the code
  EXPECT_EQ(permanent.kind, Error::Kind::kPermanent);
  EXPECT_EQ(permanent.message, dup.message);
  EXPECT_TRUE(is_unique_violation(permanent));
  const Error copied = dup.context("COPY");
  EXPECT_EQ(copied.code, "23505");
  EXPECT_EQ(copied.kind, Error::Kind::kInvalidInput);
  EXPECT_TRUE(is_unique_violation(copied));
  EXPECT_TRUE(is_unique_violation(Error(dup).context("load rows").context("write batch")));

  Status wrapped = [&]() -> Status {
    FP_CHECK(Status(dup), "copy");
    return ok_status();
  }();
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.error().message, "copy: insert trip: ERROR 23505: duplicate key value");
  EXPECT_TRUE(is_unique_violation(wrapped.error()));
  Result<int> tried = [&]() -> Result<int> { return FP_TRY(Result<int>(dup), "finish"); }();
  ASSERT_FALSE(tried.ok());
  EXPECT_TRUE(is_unique_violation(tried.error()));
  auto gave_up = retry<int>("insert", Backoff{std::chrono::milliseconds(1), std::chrono::milliseconds(1), 1},
                            [&]() -> Result<int> { return Error("busy", Error::Kind::kTransient, "40001"); });
  ASSERT_FALSE(gave_up.ok());
  EXPECT_EQ(gave_up.error().code, "40001");

  // The text is not the code: a message that merely mentions 23505 is no unique violation.
  EXPECT_FALSE(is_unique_violation(make_error("row 23505 is bad")));
  EXPECT_FALSE(is_unique_violation(Error("deadlock", Error::Kind::kTransient, "40P01")));
}

TEST(PgErrors, OneLineJoinsLibpqMessages) {
  EXPECT_EQ(one_line("server closed the connection unexpectedly\n\tThis probably means...\n"),
            "server closed the connection unexpectedly This probably means...");
}

TEST(PgConninfo, QuotesValuesAndSetsTimeout) {
  PgConfig c{"db host", 5433, "web'app", "u\\ser", "p w'd"};
  const auto s = c.conninfo(7);
  EXPECT_NE(s.find("host='db host'"), std::string::npos) << s;
  EXPECT_NE(s.find("port=5433"), std::string::npos) << s;
  EXPECT_NE(s.find("dbname='web\\'app'"), std::string::npos) << s;
  EXPECT_NE(s.find("user='u\\\\ser'"), std::string::npos) << s;
  EXPECT_NE(s.find("password='p w\\'d'"), std::string::npos) << s;
  EXPECT_NE(s.find("connect_timeout=7"), std::string::npos) << s;
}

TEST(PgConninfo, LibpqParsesOurQuoting) {
  PgConfig c{"h", 1, "web'app", "u\\ser", "p w'd"};
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(c.conninfo().c_str(), &err);
  ASSERT_NE(opts, nullptr) << (err ? err : "");
  std::map<std::string, std::string> got;
  for (auto* o = opts; o->keyword; ++o)
    if (o->val) got[o->keyword] = o->val;
  PQconninfoFree(opts);
  EXPECT_EQ(got["dbname"], "web'app");
  EXPECT_EQ(got["user"], "u\\ser");
  EXPECT_EQ(got["password"], "p w'd");
}

TEST(PgMigrateUnit, Sha256KnownAnswer) {
  EXPECT_EQ(migrate::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace fp::pg
