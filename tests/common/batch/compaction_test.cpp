#include "common/batch/compaction.h"

#include <gtest/gtest.h>

namespace fp::batch {
namespace {

ObjectEntry entry(const std::string& key, int64_t rows, std::string sha, ObjectKind kind = ObjectKind::kRows,
                  std::string dt = "2026-12-01") {
  ObjectEntry e;
  e.key = key;
  e.table = "trips";
  e.dt = std::move(dt);
  e.first_id = 1;
  e.last_id = rows;
  e.rows = rows;
  e.bytes = rows * 10;
  e.sha256 = std::move(sha);
  e.kind = kind;
  return e;
}

RunManifest run(int64_t n, uint64_t from, uint64_t to, std::vector<ObjectEntry> objects, int epoch = 1) {
  RunManifest m;
  m.range = {n, from, to, epoch};
  m.objects = std::move(objects);
  return m;
}

CompactionManifest compaction(int64_t n, std::vector<ObjectEntry> replaces,
                              std::vector<ObjectEntry> outputs) {
  CompactionManifest c;
  c.compaction = n;
  c.table = "trips";
  c.dt = "2026-12-01";
  c.xid_from = 10;
  c.xid_to = 30;
  c.replaces = std::move(replaces);
  c.outputs = std::move(outputs);
  c.committed_at = "2026-12-02T01:00:00Z";
  return c;
}

TEST(CompactionLayout, CompactedKeysRoundTripAndSortBesideRunKeys) {
  const auto key = compacted_key("p/", "trips", "2026-12-01", 5, 900, 12, 3, ObjectKind::kDeletes);
  EXPECT_EQ(key, "p/trips/dt=2026-12-01/trips-deletes-000000000005-000000000900-c00000012-003.ndjson.gz");
  auto k = parse_data_key("p/", key);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, ObjectKind::kDeletes);
  EXPECT_EQ(k->first_id, 5);
  EXPECT_EQ(k->last_id, 900);
  EXPECT_EQ(k->run, 0);
  EXPECT_EQ(k->compaction, 12);
  EXPECT_EQ(k->part, 3);
  auto r = parse_data_key("p/", data_key("p/", "trips", "2026-12-01", 5, 900, 4));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->run, 4);
  EXPECT_EQ(r->compaction, 0);
  // Neither form half-written.
  EXPECT_FALSE(
      parse_data_key("p/", "p/trips/dt=2026-12-01/trips-000000000005-000000000900-c00000012.ndjson.gz"));
  EXPECT_FALSE(
      parse_data_key("p/", "p/trips/dt=2026-12-01/trips-000000000005-000000000900-c0-001.ndjson.gz"));
  EXPECT_FALSE(parse_data_key("p/", "p/trips/dt=2026-12-01/trips-000000000005-000000000900-r0.ndjson.gz"));
  EXPECT_EQ(compaction_key("p/", 7), "p/manifests/compactions/c-00000007.json");
  EXPECT_EQ(compaction_intent_key("p/", 7), "p/manifests/compactions/c-00000007.intent.json");
}

TEST(CompactionLayout, ManifestRoundTripsAndAnIntentHasNoOutputs) {
  auto c =
      compaction(3, {entry("a", 2, "s1"), entry("b", 1, "s2", ObjectKind::kDeletes)}, {entry("c", 2, "s3")});
  c.epoch = 2;
  auto back = CompactionManifest::from_json(nlohmann::json::parse(c.to_json().dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->compaction, 3);
  EXPECT_EQ(back->epoch, 2);
  EXPECT_EQ(back->xid_to, 30u);
  ASSERT_EQ(back->replaces.size(), 2u);
  EXPECT_EQ(back->replaces[1].kind, ObjectKind::kDeletes);
  ASSERT_EQ(back->outputs.size(), 1u);
  EXPECT_EQ(back->outputs[0].sha256, "s3");
  EXPECT_EQ(CompactionManifest::rows_of(back->replaces, ObjectKind::kRows), 2);

  c.committed_at.clear();  // an intent
  auto intent = CompactionManifest::from_json(c.to_json());
  ASSERT_TRUE(intent.ok());
  EXPECT_TRUE(intent->outputs.empty());

  auto j = c.to_json();
  j["table"] = "secrets";
  EXPECT_FALSE(CompactionManifest::from_json(j).ok());
  j = c.to_json();
  j.erase("replaces");
  EXPECT_FALSE(CompactionManifest::from_json(j).ok());
}

TEST(EffectiveObjects, ACompactionSwapsWhatItReplacesForWhatItWrote) {
  std::vector<RunManifest> runs = {run(1, 10, 20, {entry("r1", 3, "h1")}),
                                   run(2, 20, 30, {entry("r2", 2, "h2")}),
                                   run(3, 30, 40, {entry("r3", 1, "h3")})};
  auto c1 = compaction(1, {entry("r1", 3, "h1"), entry("r2", 2, "h2")}, {entry("c1", 5, "k1")});
  auto e = effective_objects(runs, {c1});
  EXPECT_TRUE(e.problems.empty());
  EXPECT_EQ(e.objects.size(), 2u);
  EXPECT_TRUE(e.objects.contains("c1"));
  EXPECT_TRUE(e.objects.contains("r3"));
  EXPECT_EQ(e.objects.at("c1").compaction, 1);
  EXPECT_EQ(e.objects.at("c1").xid_to, 30u);
  EXPECT_EQ(e.replaced.at("r1"), 1);

  // A later compaction may replace an earlier one's object with a late run's.
  auto c2 = compaction(2, {entry("c1", 5, "k1"), entry("r3", 1, "h3")}, {entry("c2", 6, "k2")});
  e = effective_objects(runs, {c1, c2});
  EXPECT_TRUE(e.problems.empty());
  ASSERT_EQ(e.objects.size(), 1u);
  EXPECT_EQ(e.objects.begin()->first, "c2");
  EXPECT_EQ(e.replaced.at("c1"), 2);
}

TEST(EffectiveObjects, ABreachIsNamedAndNotApplied) {
  std::vector<RunManifest> runs = {run(1, 10, 20, {entry("r1", 3, "h1")}),
                                   run(2, 20, 30, {entry("r2", 2, "h2")})};
  // Rows lost on the way.
  auto e = effective_objects(
      runs, {compaction(1, {entry("r1", 3, "h1"), entry("r2", 2, "h2")}, {entry("c", 4, "k")})});
  ASSERT_EQ(e.problems.size(), 1u);
  EXPECT_NE(e.problems[0].find("wrote 4 rows lines for 5 replaced"), std::string::npos) << e.problems[0];
  EXPECT_TRUE(e.objects.contains("r1"));
  EXPECT_FALSE(e.objects.contains("c"));
  // Other bytes than the run listed.
  e = effective_objects(
      runs, {compaction(1, {entry("r1", 3, "other"), entry("r2", 2, "h2")}, {entry("c", 5, "k")})});
  ASSERT_EQ(e.problems.size(), 1u);
  EXPECT_FALSE(e.objects.contains("c"));
  // Something no run lists (or replaced twice).
  e = effective_objects(runs, {compaction(1, {entry("r9", 3, "h1")}, {entry("c", 3, "k")})});
  EXPECT_EQ(e.problems.size(), 1u);
  // Another day's object.
  auto other_day = entry("r1", 3, "h1", ObjectKind::kRows, "2026-12-02");
  std::vector<RunManifest> runs2 = {run(1, 10, 20, {other_day})};
  e = effective_objects(runs2, {compaction(1, {other_day}, {entry("c", 3, "k")})});
  EXPECT_EQ(e.problems.size(), 1u);
  // A key in two runs.
  e = effective_objects({run(1, 10, 20, {entry("r1", 3, "h1")}), run(2, 20, 30, {entry("r1", 3, "h1")})}, {});
  EXPECT_EQ(e.problems.size(), 1u);
}

}  // namespace
}  // namespace fp::batch
