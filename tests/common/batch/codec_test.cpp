#include "common/batch/codec.h"

#include <gtest/gtest.h>

#include "common/batch/layout.h"

namespace fp::batch {
namespace {

TEST(Gzip, RoundTripsAndIsDeterministic) {
  std::string input;
  for (int i = 0; i < 20000; ++i) input += fmt::format("{{\"id\":{},\"color\":\"red\"}}\n", i);
  GzipWriter a, b;
  ASSERT_TRUE(a.write(input).ok());
  ASSERT_TRUE(a.finish().ok());
  ASSERT_TRUE(b.write(input.substr(0, 1000)).ok());
  ASSERT_TRUE(b.write(input.substr(1000)).ok());
  ASSERT_TRUE(b.finish().ok());
  EXPECT_EQ(a.out(), b.out());  // same bytes whatever the write sizes: same ETag on a rerun
  EXPECT_LT(a.out().size(), input.size() / 4);

  GunzipReader r;
  std::string back;
  for (size_t i = 0; i < a.out().size(); i += 777)
    ASSERT_TRUE(r.write(std::string_view(a.out()).substr(i, 777), back).ok());
  EXPECT_TRUE(r.finish().ok());
  EXPECT_EQ(back, input);
}

TEST(Gzip, TruncatedStreamIsAnError) {
  GzipWriter w;
  ASSERT_TRUE(w.write(std::string(100000, 'x') + "abc").ok());
  ASSERT_TRUE(w.finish().ok());
  GunzipReader r;
  std::string out;
  ASSERT_TRUE(r.write(std::string_view(w.out()).substr(0, w.out().size() - 10), out).ok());
  auto st = r.finish();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, Error::Kind::kInvalidInput);
}

TEST(Gzip, GarbageIsAnError) {
  GunzipReader r;
  std::string out;
  EXPECT_FALSE(r.write("this is not gzip at all", out).ok());
}

TEST(Sha256Stream, MatchesKnownDigest) {
  Sha256Stream s;
  s.update("ab");
  s.update("c");
  EXPECT_EQ(s.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CopyText, UnescapeAndEscapeAreInverse) {
  const std::string v = "tab\there\nnew\\slash";
  std::string esc;
  copy_escape_append(esc, v);
  EXPECT_EQ(esc, "tab\\there\\nnew\\\\slash");
  EXPECT_EQ(copy_unescape(esc), v);
  EXPECT_EQ(copy_unescape("\\101"), "A");
}

TEST(CopyRowToJson, TripRow) {
  const auto* t = find_table("trips");
  ASSERT_NE(t, nullptr);
  std::string out;
  auto info = copy_row_to_json(
      *t, "42\t7\t3\t1\t2024-04-15 10:00:00\t40.5\t-73.25\t15\t1.5\t99.5\t14.925\tred\t1234", out);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->id, 42);
  EXPECT_EQ(info->day, "2024-04-15");
  EXPECT_EQ(
      out,
      "{\"id\":42,\"vehicle_id\":7,\"trip_id\":3,\"measurement_sequence\":1,\"measurement_time\":\"2024-04-"
      "15 "
      "10:00:00\",\"latitude\":40.5,\"longitude\":-73.25,\"fuel_capacity\":15,\"distance_traveled\":1.5,"
      "\"fuel_remaining_percent\":99.5,\"fuel_remaining_gallon\":14.925,\"color\":\"red\",\"_source_xid\":"
      "1234}\n");
}

TEST(CopyRowToJson, EscapesTextAndRejectsBadRows) {
  const auto* t = find_table("drivers");
  std::string out;
  auto info = copy_row_to_json(*t, "5\tAnn \\\"Q\\\" \\\\ O\\tB\tL-1\t2024-01-02 03:04:05+00\t9", out);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_NE(out.find("\"name\":\"Ann \\\"Q\\\" \\\\ O\\tB\""), std::string::npos) << out;
  out.clear();
  EXPECT_FALSE(copy_row_to_json(*t, "5\tAnn\tL-1", out).ok());                                // too few
  EXPECT_FALSE(copy_row_to_json(*t, "5\tAnn\tL-1\t2024-01-02 03:04:05+00\t9\t1", out).ok());  // too many
  EXPECT_FALSE(copy_row_to_json(*t, "5\t\\N\tL-1\t2024-01-02 03:04:05+00\t9", out).ok());     // NULL
}

TEST(Layout, DataKeysRoundTrip) {
  const auto key = data_key("scratch/", "trips", "2024-04-15", 1, 250000, 7);
  EXPECT_EQ(key, "scratch/trips/dt=2024-04-15/trips-000000000001-000000250000-r00000007.ndjson.gz");
  auto k = parse_data_key("scratch/", key);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->table, "trips");
  EXPECT_EQ(k->dt, "2024-04-15");
  EXPECT_EQ(k->first_id, 1);
  EXPECT_EQ(k->last_id, 250000);
  EXPECT_EQ(k->run, 7);
  EXPECT_FALSE(parse_data_key("", key).has_value());  // wrong prefix: "scratch" is no table
  EXPECT_FALSE(parse_data_key("scratch/", "scratch/trips/dt=2024-04-15/x.ndjson.gz").has_value());
  EXPECT_EQ(quarantine_key("scratch/", key),
            "scratch/quarantine/trips/dt=2024-04-15/trips-000000000001-000000250000-r00000007.ndjson.gz");
}

TEST(Layout, ManifestJsonRoundTrip) {
  RunManifest m{{3, 100, 200, 4},
                "100:200:",
                {{"k", "trips", "2024-04-15", 1, 2, 2, 50, "ab"},
                 {"d", "vehicles", "2024-04-15", 7, 7, 1, 30, "cd", ObjectKind::kDeletes}},
                {"7716126278205033944", 16384},
                "2026-12-06T17:00:00.123456Z"};
  auto back = RunManifest::from_json(nlohmann::json::parse(m.to_json().dump()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->range.run, 3);
  EXPECT_EQ(back->range.xid_to, 200u);
  EXPECT_EQ(back->range.epoch, 4);
  EXPECT_EQ(back->source, m.source);
  EXPECT_EQ(back->snapshot_at, "2026-12-06T17:00:00.123456Z");
  ASSERT_EQ(back->objects.size(), 2u);
  EXPECT_EQ(back->objects[0].sha256, "ab");
  EXPECT_EQ(back->objects[0].kind, ObjectKind::kRows);
  EXPECT_EQ(back->objects[1].kind, ObjectKind::kDeletes);
  EXPECT_FALSE(RunManifest::from_json(nlohmann::json{{"run", 1}}).ok());
}

TEST(Layout, ManifestsBeforeEpochsAreEpochOneOfAnUnrecordedSource) {
  auto m = RunManifest::from_json(nlohmann::json::parse(
      R"({"run": 2, "xid_from": 5, "xid_to": 9, "objects": [{"key": "k", "table": "trips", "dt": "2024-01-01",
          "first_id": 1, "last_id": 1, "rows": 1, "bytes": 10, "sha256": "ab"}]})"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->range.epoch, 1);
  EXPECT_TRUE(m->source.empty());
  EXPECT_TRUE(m->snapshot_at.empty());
  EXPECT_EQ(m->objects[0].kind, ObjectKind::kRows);
}

TEST(Layout, ManifestRefusesUnknownKindsTablesAndEpochs) {
  auto with = [](const char* field, nlohmann::json v) {
    nlohmann::json o = {{"key", "k"},   {"table", "trips"}, {"dt", "2024-01-01"}, {"first_id", 1},
                        {"last_id", 1}, {"rows", 1},        {"bytes", 10},        {"sha256", "ab"}};
    nlohmann::json j = {{"run", 1}, {"xid_from", 0}, {"xid_to", 5}};
    if (std::string(field) == "epoch")
      j["epoch"] = v;
    else
      o[field] = v;
    j["objects"] = nlohmann::json::array({o});
    return RunManifest::from_json(j);
  };
  EXPECT_TRUE(with("kind", "deletes").ok());
  EXPECT_FALSE(with("kind", "updates").ok());
  EXPECT_FALSE(with("table", "pg_authid").ok());
  EXPECT_FALSE(with("rows", -1).ok());
  EXPECT_FALSE(with("epoch", 0).ok());
}

TEST(Layout, DeletesKeysRoundTripAndSortBesideTheirDay) {
  const auto key = data_key("p/", "trips", "2024-04-15", 3, 9, 12, ObjectKind::kDeletes);
  EXPECT_EQ(key, "p/trips/dt=2024-04-15/trips-deletes-000000000003-000000000009-r00000012.ndjson.gz");
  auto k = parse_data_key("p/", key);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, ObjectKind::kDeletes);
  EXPECT_EQ(k->first_id, 3);
  EXPECT_EQ(k->run, 12);
  EXPECT_EQ(parse_data_key("p/", data_key("p/", "trips", "2024-04-15", 3, 9, 12))->kind, ObjectKind::kRows);
  EXPECT_FALSE(parse_data_key("p/", "p/trips/dt=2024-04-15/trips-updates-1-2-r1.ndjson.gz").has_value());
}

TEST(Gunzip, ABombIsHandedOverInBoundedPieces) {
  // 64 MiB of zeros compress to ~64 KiB; the reader must never hand over (or hold) more than one piece.
  GzipWriter gz(9);
  const std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(gz.write(zeros).ok());
  ASSERT_TRUE(gz.finish().ok());
  ASSERT_LT(gz.out().size(), 200u * 1024);
  GunzipReader r;
  size_t total = 0, largest = 0;
  ASSERT_TRUE(r.write(gz.out(), [&](std::string_view piece) {
                 total += piece.size();
                 largest = std::max(largest, piece.size());
                 return ok_status();
               }).ok());
  EXPECT_TRUE(r.finish().ok());
  EXPECT_EQ(total, 64u << 20);
  EXPECT_LE(largest, GunzipReader::kPiece);
}

TEST(Gunzip, ASinkErrorStopsInflating) {
  GzipWriter gz;
  ASSERT_TRUE(gz.write(std::string(4 << 20, 'x')).ok());
  ASSERT_TRUE(gz.finish().ok());
  GunzipReader r;
  int pieces = 0;
  auto st = r.write(gz.out(), [&](std::string_view) -> Status {
    if (++pieces == 2) return invalid_input("too big");
    return ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, Error::Kind::kInvalidInput);
  EXPECT_EQ(pieces, 2);
}

}  // namespace
}  // namespace fp::batch
