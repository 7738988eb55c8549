#include "common/batch/layout.h"

#include <charconv>

#include "common/trip/measurement.h"

namespace fp::batch {

namespace {
ColumnKind kind_of(trip::Kind kind) {
  switch (kind) {
    case trip::Kind::kInt32:
      return ColumnKind::kInt32;
    case trip::Kind::kTimestamp:
      return ColumnKind::kTimestamp;
    case trip::Kind::kFloat64:
      return ColumnKind::kFloat64;
    case trip::Kind::kText:
      return ColumnKind::kText;
  }
  return ColumnKind::kText;
}

// `id`, then the trip record's columns (common/trip/measurement.h), in column order.
std::vector<Column> trip_columns() {
  std::vector<Column> out = {{"id", ColumnKind::kInt64}};
  trip::for_each_field([&](const auto& f) { out.push_back({f.name, kind_of(f.kind)}); });
  return out;
}
}  // namespace

const std::vector<TableSpec>& tables() {
  using K = ColumnKind;
  static const std::vector<TableSpec> kTables = {
      {"drivers",
       {{"id", K::kInt32}, {"name", K::kText}, {"license_number", K::kText}, {"created_at", K::kTimestampTz}},
       "created_at"},
      {"vehicles",
       {{"id", K::kInt32},
        {"driver_id", K::kInt32},
        {"make", K::kText},
        {"model", K::kText},
        {"fuel_capacity", K::kFloat64},
        {"color", K::kText},
        {"created_at", K::kTimestampTz}},
       "created_at"},
      {"trips", trip_columns(), "measurement_time"},
  };
  return kTables;
}

const TableSpec* find_table(std::string_view name) {
  for (const auto& t : tables())
    if (t.name == name) return &t;
  return nullptr;
}

const TableSpec& deletes_spec(std::string_view table) {
  static const std::vector<TableSpec> kDeletes = [] {
    std::vector<TableSpec> out;
    for (const auto& t : tables())
      out.push_back({t.name, {{"id", ColumnKind::kInt64}, {"day", ColumnKind::kDate}}, "day"});
    return out;
  }();
  for (const auto& t : kDeletes)
    if (t.name == table) return t;
  return kDeletes.front();  // callers pass a name from tables()
}

std::string_view kind_name(ObjectKind k) {
  return k == ObjectKind::kDeletes ? "deletes" : "rows";
}

std::string SourceIdentity::describe() const {
  if (empty()) return "an unrecorded database";
  return fmt::format("database oid {} of cluster {}", database_oid, system_identifier);
}

nlohmann::json entry_to_json(const ObjectEntry& o) {
  return {{"key", o.key},   {"kind", kind_name(o.kind)}, {"table", o.table},
          {"dt", o.dt},     {"first_id", o.first_id},    {"last_id", o.last_id},
          {"rows", o.rows}, {"bytes", o.bytes},          {"sha256", o.sha256}};
}

Result<ObjectEntry> entry_from_json(const nlohmann::json& o) {
  try {
    const std::string kind = o.value("kind", "rows");
    if (kind != "rows" && kind != "deletes") return invalid_input("unknown object kind {:?}", kind);
    ObjectEntry e{o.at("key").get<std::string>(),
                  o.at("table").get<std::string>(),
                  o.at("dt").get<std::string>(),
                  o.at("first_id").get<int64_t>(),
                  o.at("last_id").get<int64_t>(),
                  o.at("rows").get<int64_t>(),
                  o.at("bytes").get<int64_t>(),
                  o.at("sha256").get<std::string>(),
                  kind == "deletes" ? ObjectKind::kDeletes : ObjectKind::kRows};
    if (!find_table(e.table)) return invalid_input("unknown table {:?}", e.table);
    if (e.rows < 0 || e.bytes < 0) return invalid_input("{}: negative size", e.key);
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return invalid_input("object entry: {}", ex.what());
  }
}

nlohmann::json RunManifest::to_json() const {
  nlohmann::json objs = nlohmann::json::array();
  for (const auto& o : objects) objs.push_back(entry_to_json(o));
  nlohmann::json j = {{"run", range.run},       {"epoch", range.epoch}, {"xid_from", range.xid_from},
                      {"xid_to", range.xid_to}, {"snapshot", snapshot}, {"objects", std::move(objs)}};
  if (!snapshot_at.empty()) j["snapshot_at"] = snapshot_at;
  if (!source.empty())
    j["source"] = {{"system_identifier", source.system_identifier}, {"database_oid", source.database_oid}};
  return j;
}

Result<RunManifest> RunManifest::from_json(const nlohmann::json& j) {
  try {
    RunManifest m;
    m.range.run = j.at("run").get<int64_t>();
    m.range.epoch = j.value("epoch", 1);
    if (m.range.epoch < 1) return invalid_input("manifest: epoch {} < 1", m.range.epoch);
    if (j.contains("source")) {
      m.source.system_identifier = j["source"].at("system_identifier").get<std::string>();
      m.source.database_oid = j["source"].at("database_oid").get<int64_t>();
    }
    m.range.xid_from = j.at("xid_from").get<uint64_t>();
    m.range.xid_to = j.at("xid_to").get<uint64_t>();
    m.snapshot = j.value("snapshot", "");
    m.snapshot_at = j.value("snapshot_at", "");
    for (const auto& o : j.value("objects", nlohmann::json::array()))
      m.objects.push_back(FP_TRY(entry_from_json(o), "manifest"));
    return m;
  } catch (const nlohmann::json::exception& e) {
    return invalid_input("manifest: {}", e.what());
  }
}

std::string data_key(std::string_view prefix, std::string_view table, std::string_view dt, int64_t first_id,
                     int64_t last_id, int64_t run, ObjectKind kind) {
  // Zero-padded numbers so a listing sorts objects by id within a day.
  return fmt::format("{}{}/dt={}/{}-{}{:012}-{:012}-r{:08}.ndjson.gz", prefix, table, dt, table,
                     kind == ObjectKind::kDeletes ? "deletes-" : "", first_id, last_id, run);
}

std::string manifest_key(std::string_view prefix, int64_t run) {
  return fmt::format("{}manifests/run-{:08}.json", prefix, run);
}

std::string intent_key(std::string_view prefix, int64_t run) {
  return fmt::format("{}manifests/run-{:08}.intent.json", prefix, run);
}

std::string quarantine_key(std::string_view prefix, std::string_view key) {
  if (key.starts_with(prefix)) key.remove_prefix(prefix.size());
  return fmt::format("{}quarantine/{}", prefix, key);
}

namespace {

bool take(std::string_view& s, std::string_view lit) {
  if (!s.starts_with(lit)) return false;
  s.remove_prefix(lit.size());
  return true;
}

bool take_int(std::string_view& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return true;
}

}  // namespace

std::optional<DataKey> parse_data_key(std::string_view prefix, std::string_view key) {
  if (!take(key, prefix)) return std::nullopt;
  DataKey k;
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  k.table = std::string(key.substr(0, slash));
  if (!find_table(k.table)) return std::nullopt;
  key.remove_prefix(slash + 1);
  if (!take(key, "dt=") || key.size() < 11 || key[10] != '/') return std::nullopt;
  k.dt = std::string(key.substr(0, 10));
  key.remove_prefix(11);
  if (!take(key, k.table) || !take(key, "-")) return std::nullopt;
  if (take(key, "deletes-")) k.kind = ObjectKind::kDeletes;
  if (!take_int(key, k.first_id) || !take(key, "-") || !take_int(key, k.last_id)) return std::nullopt;
  if (take(key, "-r")) {
    if (!take_int(key, k.run) || k.run < 1) return std::nullopt;
  } else {  // a compacted object (compaction.h): -c<n>-<part>
    int64_t part = 0;
    if (!take(key, "-c") || !take_int(key, k.compaction) || k.compaction < 1 || !take(key, "-") ||
        !take_int(key, part) || part < 0)
      return std::nullopt;
    k.part = static_cast<int>(part);
  }
  if (key != ".ndjson.gz") return std::nullopt;
  return k;
}

namespace {

// The runs after `after` among `list` (keys under <prefix>manifests/): committed ones and the pending intent.
ManifestState manifests_in(const std::vector<s3::ObjectSummary>& list, const std::string& dir,
                           int64_t after) {
  ManifestState st;
  std::vector<int64_t> intents;
  for (const auto& o : list) {
    std::string_view name = o.key;
    name.remove_prefix(dir.size());
    int64_t run = 0;
    if (!take(name, "run-") || !take_int(name, run) || run <= after) continue;
    if (name == ".json") st.committed_runs.push_back(run);
    if (name == ".intent.json") intents.push_back(run);
  }
  std::sort(st.committed_runs.begin(), st.committed_runs.end());
  const int64_t next = st.committed_runs.empty() ? after + 1 : st.committed_runs.back() + 1;
  for (auto r : intents)
    if (r == next) st.pending_intent = r;
  return st;
}

}  // namespace

Result<ManifestState> read_manifest_state(s3::Client& s3, std::string_view prefix) {
  const std::string dir = fmt::format("{}manifests/", prefix);
  auto list = FP_TRY(s3.list_all(dir), "list manifests");
  return manifests_in(list, dir, 0);
}

std::string head_key(std::string_view prefix) {
  return fmt::format("{}manifests/HEAD.json", prefix);
}

Status write_manifest_head(s3::Client& s3, std::string_view prefix, int64_t run) {
  FP_TRY(s3.put_object(head_key(prefix), nlohmann::json{{"run", run}}.dump(), "application/json"), "head");
  return ok_status();
}

Result<ManifestState> read_manifest_head(s3::Client& s3, std::string_view prefix) {
  auto body = s3.get_object(head_key(prefix));
  if (!body) {
    if (body.error().kind == Error::Kind::kNotFound) return read_manifest_state(s3, prefix);
    return std::move(body).error().context("manifest head");
  }
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.contains("run") || !j["run"].is_number_integer() || j["run"].get<int64_t>() < 1)
    return invalid_input("{}: not {{\"run\": N}}", head_key(prefix));
  const int64_t head = j["run"].get<int64_t>();
  ManifestState st = FP_TRY(read_manifests_after(s3, prefix, head), "after the head");
  st.committed_runs.insert(st.committed_runs.begin(), head);
  return st;
}

Result<ManifestState> read_manifests_after(s3::Client& s3, std::string_view prefix, int64_t after) {
  const std::string dir = fmt::format("{}manifests/", prefix);
  auto list = FP_TRY(s3.list_all(dir, 1000, after > 0 ? manifest_key(prefix, after) : std::string()),
                     fmt::format("list manifests after run {}", after));
  return manifests_in(list, dir, after);
}

Result<RunManifest> read_manifest(s3::Client& s3, std::string_view prefix, int64_t run) {
  const auto key = manifest_key(prefix, run);
  auto body = FP_TRY(s3.get_object(key), key);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return invalid_input("{}: not JSON", key);
  return FP_TRY(RunManifest::from_json(j), key);
}

}  // namespace fp::batch
