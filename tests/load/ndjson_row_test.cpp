#include "load/ndjson_row.h"

#include <gtest/gtest.h>

namespace fp::batch {
namespace {

Result<std::string> parse(const TableSpec& t, std::string line, uint64_t xid_from = 0,
                          uint64_t xid_to = UINT64_MAX) {
  const size_t n = line.size();
  line.append(simdjson::SIMDJSON_PADDING, ' ');
  NdjsonRowParser p(t);
  p.require_xid_range(xid_from, xid_to);
  std::string out;
  auto st = p.parse(std::string_view(line.data(), n), line.size(), out);
  if (!st) return std::move(st).error();
  return out;
}

const TableSpec& trips() {
  return *find_table("trips");
}

const std::string kGood =
    R"({"id":42,"vehicle_id":7,"trip_id":3,"measurement_sequence":1,"measurement_time":"2024-04-15 10:00:00",)"
    R"("latitude":40.5,"longitude":-73.25,"fuel_capacity":15,"distance_traveled":0.1,)"
    R"("fuel_remaining_percent":99.5,"fuel_remaining_gallon":14.925,"color":"red","_source_xid":1234})";

TEST(NdjsonRow, GoodTripBecomesCopyRow) {
  auto r = parse(trips(), kGood);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "42\t7\t3\t1\t2024-04-15 10:00:00\t40.5\t-73.25\t15\t0.1\t99.5\t14.925\tred\t1234\n");
}

TEST(NdjsonRow, FieldOrderDoesNotMatter) {
  auto r = parse(
      *find_table("drivers"),
      R"({"_source_xid":9,"created_at":"2024-01-02 03:04:05+00","license_number":"L\t1","name":"A\\B","id":5})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "5\tA\\\\B\tL\\t1\t2024-01-02 03:04:05+00\t9\n");
}

TEST(NdjsonRow, RejectsMalformedRecords) {
  auto bad = [&](std::string line, std::string_view why) {
    auto r = parse(trips(), line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().kind, Error::Kind::kInvalidInput);
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  };
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = kGood;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  bad("{\"id\":1", "");                                                              // truncated
  bad("not json", "");                                                               // garbage
  bad("[1,2]", "object");                                                            // not an object
  bad(replace("\"vehicle_id\":7", "\"vehicle_id\":\"7\""), "integer");               // wrong type
  bad(replace("\"vehicle_id\":7", "\"vehicle_id\":7.5"), "integer");                 // not integral
  bad(replace("\"vehicle_id\":7", "\"vehicle_id\":9999999999"), "range");            // int32 overflow
  bad(replace("\"latitude\":40.5", "\"latitude\":\"x\""), "number");                 // bad float
  bad(replace("\"color\":\"red\"", "\"color\":null"), "string");                     // null
  bad(replace(",\"color\":\"red\"", ""), "missing field \"color\"");                 // missing
  bad(replace("\"color\":\"red\"", "\"color\":\"red\",\"extra\":1"), "unexpected");  // extra
  bad(replace("\"color\":\"red\"", "\"color\":\"red\",\"color\":\"b\""), "twice");   // duplicate
  bad(replace("\"2024-04-15 10:00:00\"", "\"yesterday\""), "timestamp");             // bad timestamp
  bad(kGood + " {}", "trailing");                                                    // two documents
}

TEST(NdjsonRow, VersionsOutsideTheRunsRangeAreRefused) {
  EXPECT_TRUE(parse(trips(), kGood, 1234, 1235).ok());
  for (auto [from, to] : {std::pair<uint64_t, uint64_t>{1235, 2000}, {1, 1234}}) {
    auto r = parse(trips(), kGood, from, to);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, Error::Kind::kInvalidInput);
    EXPECT_NE(r.error().message.find("outside the run's transaction range"), std::string::npos);
  }
  std::string negative = kGood;
  negative.replace(negative.find("1234"), 4, "-5");
  EXPECT_FALSE(parse(trips(), negative).ok());
}

TEST(NdjsonRow, TombstoneLines) {
  const TableSpec& d = deletes_spec("trips");
  auto r = parse(d, R"({"id":42,"day":"2024-04-15","_source_xid":77})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "42\t2024-04-15\t77\n");
  EXPECT_FALSE(parse(d, R"({"id":42,"day":"2024-04-15 10:00:00","_source_xid":77})").ok());
  EXPECT_FALSE(parse(d, R"({"id":42,"_source_xid":77})").ok());
  EXPECT_FALSE(parse(d, R"({"id":42,"day":"2024-04-15","_source_xid":77,"color":"red"})").ok());
}

TEST(NdjsonRow, AcceptsNonFiniteFloatSpelling) {
  std::string s = kGood;
  s.replace(s.find("\"fuel_capacity\":15"), 18, "\"fuel_capacity\":\"Infinity\"");
  auto r = parse(trips(), s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->find("\tInfinity\t"), std::string::npos);
}

}  // namespace
}  // namespace fp::batch
