#include "common/batch/compaction.h"

#include <algorithm>
#include <charconv>

namespace fp::batch {

nlohmann::json CompactionManifest::to_json() const {
  auto list = [](const std::vector<ObjectEntry>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& o : v) a.push_back(entry_to_json(o));
    return a;
  };
  nlohmann::json j = {{"compaction", compaction},
                      {"epoch", epoch},
                      {"table", table},
                      {"dt", dt},
                      {"xid_from", xid_from},
                      {"xid_to", xid_to},
                      {"replaces", list(replaces)}};
  if (!committed_at.empty()) {
    j["outputs"] = list(outputs);
    j["committed_at"] = committed_at;
  }
  return j;
}

Result<CompactionManifest> CompactionManifest::from_json(const nlohmann::json& j) {
  try {
    CompactionManifest m;
    m.compaction = j.at("compaction").get<int64_t>();
    m.epoch = j.at("epoch").get<int>();
    m.table = j.at("table").get<std::string>();
    m.dt = j.at("dt").get<std::string>();
    m.xid_from = j.at("xid_from").get<uint64_t>();
    m.xid_to = j.at("xid_to").get<uint64_t>();
    m.committed_at = j.value("committed_at", "");
    if (m.compaction < 1 || m.epoch < 1) return invalid_input("compaction or epoch < 1");
    if (!find_table(m.table)) return invalid_input("unknown table {:?}", m.table);
    for (const auto& o : j.at("replaces")) m.replaces.push_back(FP_TRY(entry_from_json(o), "replaces"));
    for (const auto& o : j.value("outputs", nlohmann::json::array()))
      m.outputs.push_back(FP_TRY(entry_from_json(o), "outputs"));
    return m;
  } catch (const nlohmann::json::exception& e) {
    return invalid_input("compaction manifest: {}", e.what());
  }
}

int64_t CompactionManifest::rows_of(const std::vector<ObjectEntry>& objects, ObjectKind kind) {
  int64_t n = 0;
  for (const auto& o : objects)
    if (o.kind == kind) n += o.rows;
  return n;
}

std::string compaction_key(std::string_view prefix, int64_t n) {
  return fmt::format("{}manifests/compactions/c-{:08}.json", prefix, n);
}

std::string compaction_intent_key(std::string_view prefix, int64_t n) {
  return fmt::format("{}manifests/compactions/c-{:08}.intent.json", prefix, n);
}

std::string compaction_cursor_key(std::string_view prefix) {
  return fmt::format("{}manifests/compactions/CURSOR.json", prefix);
}

std::string compacted_key(std::string_view prefix, std::string_view table, std::string_view dt,
                          int64_t first_id, int64_t last_id, int64_t compaction, int part, ObjectKind kind) {
  return fmt::format("{}{}/dt={}/{}-{}{:012}-{:012}-c{:08}-{:03}.ndjson.gz", prefix, table, dt, table,
                     kind == ObjectKind::kDeletes ? "deletes-" : "", first_id, last_id, compaction, part);
}

int64_t CompactionState::highest() const {
  int64_t h = 0;
  if (!committed.empty()) h = committed.back();
  if (!intents.empty()) h = std::max(h, intents.back());
  return h;
}

Result<CompactionState> read_compaction_state(s3::Client& s3, std::string_view prefix, int64_t after) {
  const std::string dir = fmt::format("{}manifests/compactions/", prefix);
  const std::string start_after = after > 0 ? compaction_key(prefix, after) : std::string();
  auto list = FP_TRY(s3.list_all(dir, 1000, start_after), "list compactions");
  CompactionState st;
  for (const auto& o : list) {
    std::string_view name = o.key;
    name.remove_prefix(dir.size());
    if (!name.starts_with("c-")) continue;
    name.remove_prefix(2);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (ec != std::errc() || n <= after) continue;
    const std::string_view rest(p, static_cast<size_t>(name.data() + name.size() - p));
    if (rest == ".json") st.committed.push_back(n);
    if (rest == ".intent.json") st.intents.push_back(n);
  }
  std::sort(st.committed.begin(), st.committed.end());
  std::sort(st.intents.begin(), st.intents.end());
  return st;
}

namespace {

Result<CompactionManifest> read_compaction_at(s3::Client& s3, const std::string& key) {
  auto body = FP_TRY(s3.get_object(key), key);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return invalid_input("{}: not JSON", key);
  return FP_TRY(CompactionManifest::from_json(j), key);
}

}  // namespace

Result<CompactionManifest> read_compaction(s3::Client& s3, std::string_view prefix, int64_t n) {
  return read_compaction_at(s3, compaction_key(prefix, n));
}

Result<CompactionManifest> read_compaction_intent(s3::Client& s3, std::string_view prefix, int64_t n) {
  return read_compaction_at(s3, compaction_intent_key(prefix, n));
}

namespace {

// Why compaction `m` cannot apply to the objects as they stand, or "".
std::string compaction_breach(const CompactionManifest& m,
                              const std::map<std::string, EffectiveObjects::Object>& objects) {
  for (const auto& r : m.replaces) {
    auto it = objects.find(r.key);
    if (it == objects.end()) return fmt::format("replaces {}, which the bucket does not hold", r.key);
    const auto& have = it->second;
    if (have.entry.sha256 != r.sha256 || have.entry.rows != r.rows || have.entry.kind != r.kind)
      return fmt::format("replaces {} with other bytes than its manifest lists", r.key);
    if (have.epoch != m.epoch || have.entry.table != m.table || have.entry.dt != m.dt)
      return fmt::format("replaces {}, of another table, day or epoch", r.key);
  }
  for (auto kind : {ObjectKind::kRows, ObjectKind::kDeletes}) {
    const int64_t in = CompactionManifest::rows_of(m.replaces, kind),
                  out = CompactionManifest::rows_of(m.outputs, kind);
    if (in != out) return fmt::format("wrote {} {} lines for {} replaced", out, kind_name(kind), in);
  }
  for (const auto& o : m.outputs)
    if (objects.contains(o.key)) return fmt::format("writes {}, which another manifest lists", o.key);
  return "";
}

}  // namespace

EffectiveObjects effective_objects(const std::vector<RunManifest>& runs,
                                   const std::vector<CompactionManifest>& compactions) {
  EffectiveObjects out;
  for (const auto& m : runs)
    for (const auto& o : m.objects) {
      if (out.objects.contains(o.key)) out.problems.push_back(fmt::format("{} listed twice", o.key));
      out.objects[o.key] = {o, m.range.epoch, m.range.xid_from, m.range.xid_to, m.range.run, 0};
    }
  for (const auto& c : compactions) {
    if (auto why = compaction_breach(c, out.objects); !why.empty()) {
      out.problems.push_back(fmt::format("compaction {} ({} {}): {}", c.compaction, c.table, c.dt, why));
      continue;
    }
    for (const auto& r : c.replaces) {
      out.objects.erase(r.key);
      out.replaced[r.key] = c.compaction;
    }
    for (const auto& o : c.outputs) out.objects[o.key] = {o, c.epoch, c.xid_from, c.xid_to, 0, c.compaction};
  }
  return out;
}

}  // namespace fp::batch
