#include "load/verify.h"

#include <map>
#include <set>

#include "common/batch/compaction.h"
#include "common/batch/layout.h"
#include "common/batch/session.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "load/verify_days.h"
#include "load/verify_newest.h"

namespace fp::batch {
namespace {

constexpr size_t kShown = 5;  // keys, days or ids named in one line at most

struct ManifestObject {
  std::string table;
  ObjectKind kind = ObjectKind::kRows;
  int64_t rows = 0;
  std::string sha256;
  int epoch = 1;
};

// What the committed manifests hold: the newest epoch and its watermark (its newest run's xid_to), the
// row versions per table in that epoch, and every object of every epoch.
struct CommittedRuns {
  size_t runs = 0;
  int epoch = 0;
  uint64_t watermark = 0;
  std::optional<int64_t> pending_run;             // an export in progress (or crashed)
  std::optional<RunManifest> newest;              // the newest committed run (of the newest epoch)
  std::map<std::string, int64_t> rows;            // table -> row versions in the newest epoch
  std::map<std::string, ManifestObject> objects;  // key -> object, all epochs, compactions applied
  std::map<std::string, int64_t> replaced;        // key -> the committed compaction that replaced it
  std::set<int64_t> pending_compactions;          // compactions in progress (or crashed before the commit)
  int64_t highest_compaction = 0;                 // any number above it began after the manifests were read
  size_t compactions = 0;
  // Why a version could have been exported twice, per table ("" for all tables): a key listed twice, runs
  // of an epoch whose xid ranges do not follow on from each other, objects of one run whose id ranges
  // overlap. Each row version is exported once exactly when none of these hold.
  std::map<std::string, std::vector<std::string>> doubled;
};

namespace {

// The structure that makes "each version exported once" true: within an epoch, each run's range starts
// where the previous one ended; within a run, one table's row objects cover disjoint id ranges (a run
// orders by id and cuts at day and size boundaries); no key is listed twice.
void check_partition(const std::vector<RunManifest>& manifests, CommittedRuns& c) {
  for (size_t i = 0; i < manifests.size(); ++i) {
    const RunManifest& m = manifests[i];
    if (i > 0 && manifests[i - 1].range.epoch == m.range.epoch &&
        manifests[i - 1].range.xid_to != m.range.xid_from)
      c.doubled[""].push_back(fmt::format("run {} starts at xid {} but run {} ended at {}", m.range.run,
                                          m.range.xid_from, manifests[i - 1].range.run,
                                          manifests[i - 1].range.xid_to));
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> ranges;
    for (const auto& o : m.objects)  // (a key listed twice: effective_objects() names it)
      if (o.kind == ObjectKind::kRows) ranges[o.table].push_back({o.first_id, o.last_id});
    for (auto& [table, r] : ranges) {
      std::sort(r.begin(), r.end());
      for (size_t k = 1; k < r.size(); ++k)
        if (r[k].first <= r[k - 1].second)
          c.doubled[table].push_back(fmt::format("run {}: ids {}-{} in two objects", m.range.run, r[k].first,
                                                 std::min(r[k].second, r[k - 1].second)));
    }
  }
}

}  // namespace

Result<CommittedRuns> read_committed_runs(s3::Client& s3, const std::string& prefix) {
  // Spelled out, not FP_TRY: GCC 12 takes the macro's temporary here for a stack object freed on the heap
  // (a false -Wfree-nonheap-object).
  auto state = read_manifest_state(s3, prefix);
  if (!state) return std::move(state).error().context("manifests");
  CommittedRuns c;
  c.pending_run = state->pending_intent;
  std::vector<RunManifest> manifests;
  for (int64_t run : state->committed_runs)
    manifests.push_back(FP_TRY(read_manifest(s3, prefix, run), "manifest"));
  if (!manifests.empty()) {
    c.epoch = manifests.back().range.epoch;
    c.watermark = manifests.back().range.xid_to;
    c.newest = manifests.back();
  }
  check_partition(manifests, c);
  for (const auto& m : manifests)
    if (m.range.epoch == c.epoch) ++c.runs;
  // Compactions swap a day's small objects for large ones holding the same lines (common/batch/compaction.h).
  auto compacted = read_compaction_state(s3, prefix);
  if (!compacted) return std::move(compacted).error().context("compactions");
  std::vector<CompactionManifest> compactions;
  for (int64_t n : compacted->committed)
    compactions.push_back(FP_TRY(read_compaction(s3, prefix, n), "compaction manifest"));
  const std::set<int64_t> committed(compacted->committed.begin(), compacted->committed.end());
  for (int64_t n : compacted->intents)
    if (!committed.contains(n)) c.pending_compactions.insert(n);
  c.compactions = compactions.size();
  c.highest_compaction = compacted->highest();
  auto effective = effective_objects(manifests, compactions);
  for (const auto& why : effective.problems) c.doubled[""].push_back(why);
  for (const auto& [key, o] : effective.objects) {
    if (o.epoch == c.epoch && o.entry.kind == ObjectKind::kRows) c.rows[o.entry.table] += o.entry.rows;
    c.objects[key] = {o.entry.table, o.entry.kind, o.entry.rows, o.entry.sha256, o.epoch};
  }
  c.replaced = std::move(effective.replaced);
  return c;
}

// What the warehouse recorded per object key: loaded (rows, sha256, ETag) or quarantined (reason).
struct WarehouseObjects {
  struct Loaded {
    int64_t rows = 0;
    std::optional<std::string> sha256;
    std::string etag;
  };
  std::map<std::string, Loaded> loaded;
  std::map<std::string, std::string> quarantined;
};

// Every object under the prefix, or only `keys` (an index lookup each, not the whole history).
Result<WarehouseObjects> warehouse_objects(pg::Connection& dw, const std::string& prefix,
                                           const std::vector<std::string>* keys = nullptr) {
  WarehouseObjects out;
  const std::string where = keys ? "object_key = ANY($1::text[])" : "starts_with(object_key, $1)";
  const pg::Param arg = keys ? pg::array_param(*keys) : pg::Param(prefix);
  auto loaded = FP_TRY(
      dw.query("SELECT object_key, row_count, sha256, etag FROM raw.load_manifest WHERE " + where, arg),
      "load manifest");
  for (int r = 0; r < loaded.size(); ++r)
    out.loaded[FP_TRY(loaded.get<std::string>(r, 0), "key")] = {
        FP_TRY(loaded.get<int64_t>(r, 1), "rows"),
        FP_TRY(loaded.get<std::optional<std::string>>(r, 2), "sha256"),
        FP_TRY(loaded.get<std::string>(r, 3), "etag")};
  auto q = FP_TRY(dw.query("SELECT object_key, reason FROM raw.load_quarantine WHERE " + where, arg),
                  "load quarantine");
  for (int r = 0; r < q.size(); ++r)
    out.quarantined[FP_TRY(q.get<std::string>(r, 0), "key")] = FP_TRY(q.get<std::string>(r, 1), "reason");
  return out;
}

// source -> bucket: the newest epoch's manifests hold at least one version of every source row below the
// watermark. A row updated in the source is exported again, so the bucket holds every version: over all
// runs the count can only be "at least" (an older run's rows may have moved on since); the newest run is
// checked exactly, id by id (verify_newest.h), and lost and doubled rows end to end by source->warehouse.
Result<VerifyLine> source_to_bucket(pg::Connection& src, const TableSpec& t, const CommittedRuns& c) {
  const std::string name(t.name);
  auto count =
      FP_TRY(src.query(fmt::format("SELECT count(*) FROM public.{} WHERE _export_xid < $1::xid8", t.name),
                       std::to_string(c.watermark)),
             "source count");
  const int64_t source_rows = FP_TRY(count.get<int64_t>(0, 0), "count");
  const auto in_bucket = c.rows.find(name);
  const int64_t bucket_rows = in_bucket == c.rows.end() ? 0 : in_bucket->second;
  std::vector<std::string> doubled;
  for (const char* k : {"", t.name.data()}) {
    auto it = c.doubled.find(k);
    if (it != c.doubled.end()) doubled.insert(doubled.end(), it->second.begin(), it->second.end());
  }
  std::string detail = fmt::format("source rows {} (xid < {}), bucket row versions {} in {} runs of epoch {}",
                                   source_rows, c.watermark, bucket_rows, c.runs, c.epoch);
  detail += doubled.empty() ? ", each version once" : "; versions exported twice: " + first_few(doubled);
  return VerifyLine{bucket_rows >= source_rows && doubled.empty(), "source->bucket", name, detail};
}

// bucket: every data object under the table's prefix is one a committed manifest lists (or one the export
// in progress is writing), and no loaded object was rewritten since (its ETag changed).
Result<VerifyLine> bucket_contents(s3::Client& s3, const std::string& prefix, const TableSpec& t,
                                   const CommittedRuns& c, const WarehouseObjects& w) {
  auto listed = FP_TRY(s3.list_all(fmt::format("{}{}/", prefix, t.name)), "list objects");
  std::vector<std::string> unlisted, rewritten;
  int64_t awaiting_deletion = 0;
  for (const auto& o : listed) {
    auto k = parse_data_key(prefix, o.key);
    if (!c.objects.contains(o.key)) {
      // Replaced by a committed compaction that has not deleted it yet: no reader takes it.
      if (c.replaced.contains(o.key)) {
        ++awaiting_deletion;
        continue;
      }
      const bool in_progress = k && ((c.pending_run && k->run == *c.pending_run) ||
                                     (k->compaction > 0 && (c.pending_compactions.contains(k->compaction) ||
                                                            k->compaction > c.highest_compaction)));
      if (!in_progress) unlisted.push_back(o.key);
      continue;
    }
    auto it = w.loaded.find(o.key);
    if (it != w.loaded.end() && it->second.etag != o.etag) rewritten.push_back(o.key);
  }
  std::string detail = fmt::format("{} objects", listed.size());
  if (awaiting_deletion > 0)
    detail +=
        fmt::format(" ({} replaced by a compaction, to be deleted by the next pass)", awaiting_deletion);
  if (!unlisted.empty())
    detail += fmt::format("; {} that no committed manifest lists (never loaded): {}", unlisted.size(),
                          first_few(unlisted));
  if (!rewritten.empty())
    detail += fmt::format("; {} rewritten since they were loaded (ETag differs): {}", rewritten.size(),
                          first_few(rewritten));
  if (unlisted.empty() && rewritten.empty()) detail += ", all listed by committed manifests";
  if (c.compactions > 0) detail += fmt::format(" ({} compactions applied)", c.compactions);
  return VerifyLine{unlisted.empty() && rewritten.empty(), "bucket", std::string(t.name), detail};
}

// bucket -> warehouse: every object of the newest epoch is loaded with its manifest's sha256 and row count.
VerifyLine bucket_to_warehouse(const TableSpec& t, const CommittedRuns& c, const WarehouseObjects& w,
                               const char* stage = "bucket->warehouse") {
  const std::string name(t.name);
  int64_t objects = 0, loaded = 0;
  std::vector<std::string> missing, wrong, quarantined;
  for (const auto& [key, o] : c.objects) {
    if (o.table != name || o.epoch != c.epoch) continue;
    ++objects;
    auto it = w.loaded.find(key);
    if (it == w.loaded.end()) {
      auto q = w.quarantined.find(key);
      if (q != w.quarantined.end())
        quarantined.push_back(fmt::format("{} ({})", key, q->second));
      else
        missing.push_back(key);
    } else if (it->second.rows != o.rows || (it->second.sha256 && *it->second.sha256 != o.sha256)) {
      wrong.push_back(key);
    } else {
      ++loaded;
    }
  }
  std::string detail = fmt::format("{} objects: {} loaded, {} not loaded, {} quarantined, {} differing",
                                   objects, loaded, missing.size(), quarantined.size(), wrong.size());
  if (!quarantined.empty()) detail += "; quarantined: " + first_few(quarantined);
  if (!wrong.empty()) detail += "; differing from their manifest: " + first_few(wrong);
  return VerifyLine{loaded == objects, stage, name, detail};
}

// --scope newest-run: the newest committed run alone, found from the manifest head (no listing of the
// history): its rows id by id against the source, its objects against what the warehouse loaded.
Result<std::vector<VerifyLine>> verify_newest_run(s3::Client& s3, pg::Connection& src, pg::Connection& dw,
                                                  const std::string& prefix) {
  std::vector<VerifyLine> out;
  auto head = FP_TRY(read_manifest_head(s3, prefix), "manifest head");
  if (head.committed_runs.empty()) {
    for (const auto& t : tables())
      out.push_back(
          {true, "source->bucket (newest run)", std::string(t.name), "no committed export run yet"});
    return out;
  }
  CommittedRuns c;
  c.runs = 1;
  c.newest = FP_TRY(read_manifest(s3, prefix, head.committed_runs.back()), "newest manifest");
  c.epoch = c.newest->range.epoch;
  c.watermark = c.newest->range.xid_to;
  std::vector<std::string> keys;
  for (const auto& o : c.newest->objects) {
    c.objects[o.key] = ManifestObject{o.table, o.kind, o.rows, o.sha256, c.epoch};
    keys.push_back(o.key);
  }
  auto objects = FP_TRY(warehouse_objects(dw, prefix, &keys), "warehouse objects");
  for (const auto& t : tables()) {
    out.push_back(FP_TRY(newest_run_exact(src, s3, t, *c.newest), "source->bucket (newest run)"));
    out.push_back(bucket_to_warehouse(t, c, objects, "bucket->warehouse (newest run)"));
  }
  return out;
}

}  // namespace

std::string first_few(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < kShown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > kShown) out += fmt::format(" and {} more", items.size() - kShown);
  return out;
}

Result<std::vector<VerifyLine>> run_verify(const Config& cfg, const VerifyOptions& opts) {
  s3::Client s3(cfg.s3);
  const auto session = text_stable_session("fleetpipe verify", std::chrono::minutes(30));
  auto src = FP_TRY(pg::Connection::connect(cfg.webapp_as(DbService::kPipeline), session), "connect webapp");
  auto dw =
      FP_TRY(pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), session), "connect warehouse");
  if (opts.scope == VerifyScope::kNewestRun) return verify_newest_run(s3, src, dw, opts.prefix);
  auto committed = read_committed_runs(s3, opts.prefix);
  if (!committed) return std::move(committed).error();
  auto objects = warehouse_objects(dw, opts.prefix);
  if (!objects) return std::move(objects).error();

  std::vector<VerifyLine> out;
  for (const auto& t : tables()) {
    out.push_back(FP_TRY(source_to_bucket(src, t, *committed), "source->bucket"));
    if (committed->newest)
      out.push_back(FP_TRY(newest_run_exact(src, s3, t, *committed->newest), "source->bucket (newest run)"));
    out.push_back(FP_TRY(bucket_contents(s3, opts.prefix, t, *committed, *objects), "bucket"));
    out.push_back(bucket_to_warehouse(t, *committed, *objects));
    out.push_back(
        FP_TRY(source_to_warehouse(src, dw, t, committed->watermark, {opts.prefix, opts.reread_all_days}),
               "source->warehouse"));
  }
  return out;
}

}  // namespace fp::batch
