#include "load/plan.h"

#include <map>
#include <set>

#include "common/log.h"

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "load";

// The lowest run (or compaction) the warehouse has not finished (both are numbered 1, 2, ... without gaps;
// `table` holds the finished and the superseded ones): everything below it is done, so the load lists only
// the manifests from it on and its cost follows what is new, not the number of runs in the bucket.
Result<int64_t> first_unfinished(pg::Connection& dw, const std::string& prefix, std::string_view table,
                                 std::string_view column) {
  auto r =
      FP_TRY(dw.query(fmt::format("SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM {0} WHERE prefix = $1 AND "
                                  "{1} = 1) THEN 1 ELSE (SELECT min(r.{1}) + 1 FROM {0} r WHERE r.prefix = "
                                  "$1 AND NOT EXISTS (SELECT 1 FROM {0} n WHERE n.prefix = $1 AND n.{1} = "
                                  "r.{1} + 1)) END",
                                  table, column),
                      prefix),
             fmt::format("first unfinished {}", column));
  return r.get<int64_t>(0, 0);
}

}  // namespace

Result<int64_t> first_unfinished_run(pg::Connection& dw, const std::string& prefix) {
  return first_unfinished(dw, prefix, "raw.load_runs", "run");
}

namespace {

// The finished runs from `from` on (above a gap a later run may already be finished).
Result<std::set<int64_t>> finished_runs(pg::Connection& dw, const std::string& prefix, int64_t from) {
  auto rows = FP_TRY(dw.query("SELECT run FROM raw.load_runs WHERE prefix = $1 AND run >= $2", prefix, from),
                     "finished runs");
  std::set<int64_t> out;
  for (int r = 0; r < rows.size(); ++r) out.insert(FP_TRY(rows.get<int64_t>(r, 0), "run"));
  return out;
}

// What the warehouse recorded of an object: loaded (with the sha256 it was checked against; none for rows
// from before checksums were recorded), replaced by a finished compaction (as loaded: its lines were), or
// quarantined.
struct ObjectRecord {
  bool quarantined = false;
  std::optional<std::string> sha256;
};

Result<std::map<std::string, ObjectRecord>> object_records(pg::Connection& dw,
                                                           const std::vector<std::string>& keys) {
  std::map<std::string, ObjectRecord> out;
  if (keys.empty()) return out;
  auto rows =
      FP_TRY(dw.query("SELECT object_key, sha256, false FROM raw.load_manifest WHERE object_key = "
                      "ANY($1::text[]) UNION ALL SELECT object_key, sha256, false FROM raw.load_replaced "
                      "WHERE object_key = ANY($1::text[]) UNION ALL SELECT object_key, NULL, true FROM "
                      "raw.load_quarantine WHERE object_key = ANY($1::text[])",
                      pg::array_param(keys)),
             "read load manifest");
  for (int r = 0; r < rows.size(); ++r) {
    ObjectRecord rec{FP_TRY(rows.get<bool>(r, 2), "quarantined"),
                     FP_TRY(rows.get<std::optional<std::string>>(r, 1), "sha256")};
    auto& slot = out[std::string(FP_TRY(rows.get<std::string>(r, 0), "key"))];
    if (!slot.sha256 && !slot.quarantined) slot = rec;
    if (!rec.quarantined) slot = rec;  // loaded wins over an earlier quarantine
  }
  return out;
}

// The open runs' objects that are not loaded (or replaced) yet become pending; one loaded with other bytes
// than the manifest lists is an error (the warehouse holds something the manifest does not vouch for).
Status collect_run_objects(LoadPlan& plan, const std::map<std::string, ObjectRecord>& records) {
  for (const auto& m : plan.open_runs) {
    for (const auto& o : m.objects) {
      auto it = records.find(o.key);
      if (it == records.end()) {
        if (!plan.replaced.contains(o.key)) plan.pending.push_back({o, find_table(o.table), m.range});
      } else if (it->second.quarantined) {
        ++plan.quarantined_before;
      } else if (it->second.sha256 && *it->second.sha256 != o.sha256) {
        return make_error("{} was loaded with sha256 {} but the committed manifest of run {} lists {}", o.key,
                          *it->second.sha256, m.range.run, o.sha256);
      } else {
        ++plan.already_loaded;
      }
    }
  }
  return ok_status();
}

// Compacted objects whose replaced objects were all loaded with the listed bytes: their lines are in the
// warehouse already, so they are recorded as loaded (with their ETag, which verify compares) unread.
Status record_via_compaction(s3::Client& s3, pg::Connection& dw, const CompactionManifest& m,
                             const std::vector<const ObjectEntry*>& objects) {
  auto tx = FP_TRY(dw.begin(), "begin");
  for (const ObjectEntry* o : objects) {
    auto head = FP_TRY(s3.head_object(o->key), o->key);
    FP_TRY(dw.query("INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count, sha256, epoch, "
                    "kind, compaction, via_compaction) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true) "
                    "ON CONFLICT (object_key) DO NOTHING",
                    o->key, head.etag, o->table, o->rows, o->sha256, m.epoch, std::string(kind_name(o->kind)),
                    m.compaction),
           "record a compacted object");
  }
  FP_CHECK(tx.commit(), "commit");
  return ok_status();
}

// The open compactions' objects, in commit order (a later compaction may replace an earlier one's objects):
// recorded unread, pending, or accounted for already.
Status collect_compacted_objects(s3::Client& s3, pg::Connection& dw, LoadPlan& plan,
                                 std::map<std::string, ObjectRecord>& records) {
  for (const auto& m : plan.open_compactions) {
    std::vector<const ObjectEntry*> unseen;
    for (const auto& o : m.outputs) {
      auto it = records.find(o.key);
      if (it == records.end()) {
        if (!plan.replaced.contains(o.key)) unseen.push_back(&o);
      } else if (it->second.quarantined) {
        ++plan.quarantined_before;
      } else {
        ++plan.already_loaded;
      }
    }
    if (unseen.empty()) continue;
    const bool all_loaded = std::all_of(m.replaces.begin(), m.replaces.end(), [&](const ObjectEntry& r) {
      auto it = records.find(r.key);
      return it != records.end() && !it->second.quarantined && it->second.sha256 == r.sha256;
    });
    if (all_loaded) {
      FP_CHECK(record_via_compaction(s3, dw, m, unseen), fmt::format("compaction {}", m.compaction));
      for (const ObjectEntry* o : unseen) records[o->key] = {false, o->sha256};
      plan.via_compaction += static_cast<int64_t>(unseen.size());
      continue;
    }
    const RunRange range{0, m.xid_from, m.xid_to, m.epoch};
    for (const ObjectEntry* o : unseen)
      plan.pending.push_back({*o, find_table(o->table), range, m.compaction});
  }
  return ok_status();
}

Status collect_pending(s3::Client& s3, pg::Connection& dw, LoadPlan& plan) {
  std::vector<std::string> keys;
  for (const auto& m : plan.open_runs)
    for (const auto& o : m.objects) keys.push_back(o.key);
  for (const auto& m : plan.open_compactions) {
    for (const auto& o : m.outputs) keys.push_back(o.key);
    for (const auto& o : m.replaces) keys.push_back(o.key);
  }
  auto records = FP_TRY(object_records(dw, keys), "load manifest");
  FP_CHECK(collect_run_objects(plan, records), "runs");
  return collect_compacted_objects(s3, dw, plan, records);
}

// The committed compactions the warehouse has not finished: those of the plan's epoch are open, older
// ones superseded.
Status open_compactions(s3::Client& s3, pg::Connection& dw, const std::string& prefix, LoadPlan& plan) {
  const int64_t from =
      FP_TRY(first_unfinished(dw, prefix, "raw.load_compactions", "compaction"), "compactions");
  auto state = FP_TRY(read_compaction_state(s3, prefix, from - 1), "compaction manifests");
  if (state.committed.empty()) return ok_status();
  auto done =
      FP_TRY(dw.query("SELECT compaction FROM raw.load_compactions WHERE prefix = $1 AND compaction >= $2",
                      prefix, from),
             "finished compactions");
  std::set<int64_t> finished;
  for (int r = 0; r < done.size(); ++r) finished.insert(FP_TRY(done.get<int64_t>(r, 0), "compaction"));
  for (int64_t n : state.committed) {
    if (finished.contains(n)) continue;
    auto m = FP_TRY(read_compaction(s3, prefix, n), "compaction manifest");
    if (m.epoch < plan.epoch) {
      FP_TRY(
          dw.query(
              "INSERT INTO raw.load_compactions (prefix, compaction, epoch, table_name, dt, outputs, "
              "replaced, superseded) VALUES ($1, $2, $3, $4, $5::date, $6, $7, true) ON CONFLICT DO NOTHING",
              prefix, n, m.epoch, m.table, m.dt, static_cast<int64_t>(m.outputs.size()),
              static_cast<int64_t>(m.replaces.size())),
          "record superseded compaction");
      continue;
    }
    for (const auto& r : m.replaces) plan.replaced[r.key] = n;
    plan.open_compactions.push_back(std::move(m));
  }
  return ok_status();
}

Status record_superseded(pg::Connection& dw, const std::string& prefix, const RunManifest& m) {
  FP_TRY(dw.query("INSERT INTO raw.load_runs (prefix, run, epoch, objects, superseded) "
                  "VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING",
                  prefix, m.range.run, m.range.epoch, static_cast<int64_t>(m.objects.size())),
         "record superseded run");
  log::emit(log::Level::kWarn, kLog, "run superseded by a newer epoch: not loaded",
            {{"run", m.range.run}, {"epoch", m.range.epoch}, {"objects", m.objects.size()}});
  return ok_status();
}

}  // namespace

Result<LoadPlan> plan_load(s3::Client& s3, pg::Connection& dw, const std::string& prefix) {
  LoadPlan plan;
  const int64_t from = FP_TRY(first_unfinished_run(dw, prefix), "load runs");
  auto state = read_manifests_after(s3, prefix, from - 1);
  if (!state) return std::move(state).error().context("manifests");
  if (state->committed_runs.empty()) {
    // Nothing committed since the last finished run. The epoch still names the newest committed run's, read
    // through the manifest head (constant cost).
    auto head = FP_TRY(read_manifest_head(s3, prefix), "manifest head");
    if (head.committed_runs.empty()) return plan;
    plan.epoch = FP_TRY(read_manifest(s3, prefix, head.committed_runs.back()), "newest manifest").range.epoch;
  } else {
    auto finished = FP_TRY(finished_runs(dw, prefix, from), "load runs");
    auto newest = FP_TRY(read_manifest(s3, prefix, state->committed_runs.back()), "newest manifest");
    plan.epoch = newest.range.epoch;
    for (int64_t run : state->committed_runs) {
      if (finished.contains(run)) continue;
      auto m = run == newest.range.run ? newest : FP_TRY(read_manifest(s3, prefix, run), "manifest");
      if (m.range.epoch < plan.epoch) {
        plan.superseded += static_cast<int64_t>(m.objects.size());
        plan.superseded_runs.push_back(run);
        FP_CHECK(record_superseded(dw, prefix, m), "superseded");
        continue;
      }
      plan.open_runs.push_back(std::move(m));
    }
  }
  FP_CHECK(open_compactions(s3, dw, prefix, plan), "compactions");
  FP_CHECK(collect_pending(s3, dw, plan), "pending objects");
  return plan;
}

namespace {

// An epoch's first run is loaded: the raw rows of older epochs it did not carry are gone from the source.
// They become tombstones at (epoch, xid 0), which any row version of the epoch outranks.
Result<int64_t> sweep_epoch(pg::Connection& dw, const std::string& prefix, int epoch, int64_t base_run) {
  auto tx = FP_TRY(dw.begin(), "begin");
  int64_t swept = 0;
  for (const auto& t : tables()) {
    // Rows of partitions `fleetpipe retain` dropped are gone from the source by design, not deleted: the
    // re-export could not carry them, and they stay live here.
    const std::string retired =
        t.name == "trips" ? fmt::format(
                                " AND NOT EXISTS (SELECT 1 FROM ops.retention_drops d WHERE "
                                "d.table_name = 'trips' AND r.{0} >= d.range_start AND r.{0} < d.range_end)",
                                t.date_column)
                          : "";
    auto r = FP_TRY(
        dw.query(
            fmt::format(
                "UPDATE raw.{} r SET _source_epoch = $1, _source_xid = 0, _deleted_xid = 0, _deleted_at = "
                "now(), _load_xid = pg_current_xact_id() WHERE _source_epoch < $1 AND _deleted_xid IS NULL{}",
                t.name, retired),
            epoch),
        "sweep");
    swept += r.affected();
    // Old tombstones move to the new epoch too, so no older version can outrank them later.
    FP_TRY(
        dw.query(fmt::format("UPDATE raw.{} SET _source_epoch = $1, _source_xid = 0 WHERE _source_epoch < $1",
                             t.name),
                 epoch),
        "sweep tombstones");
  }
  FP_TRY(dw.query("INSERT INTO raw.load_epochs (prefix, epoch, base_run, swept_rows) VALUES ($1, $2, $3, $4)",
                  prefix, epoch, base_run, swept),
         "record sweep");
  FP_CHECK(tx.commit(), "commit sweep");
  log::emit(log::Level::kInfo, kLog, "epoch swept: rows the re-export did not carry are marked deleted",
            {{"epoch", epoch}, {"base_run", base_run}, {"rows", swept}});
  return swept;
}

}  // namespace

namespace {

// Newest first: a later compaction that replaced an earlier one's objects accounts for them once finished.
Status finish_compactions(pg::Connection& dw, const std::string& prefix, const LoadPlan& plan) {
  for (auto m = plan.open_compactions.rbegin(); m != plan.open_compactions.rend(); ++m) {
    std::vector<std::string> keys;
    for (const auto& o : m->outputs) keys.push_back(o.key);
    auto records = FP_TRY(object_records(dw, keys), "load manifest");
    if (records.size() < keys.size()) continue;  // an object not loaded yet: the next load tries it again
    auto tx = FP_TRY(dw.begin(), "begin");
    std::vector<std::string> replaced, sha256;
    for (const auto& r : m->replaces) {
      replaced.push_back(r.key);
      sha256.push_back(r.sha256);
    }
    FP_TRY(
        dw.query("INSERT INTO raw.load_replaced (object_key, prefix, compaction, sha256) SELECT k, $2, $3, s "
                 "FROM unnest($1::text[], $4::text[]) AS u(k, s) ON CONFLICT (object_key) DO NOTHING",
                 pg::array_param(replaced), prefix, m->compaction, pg::array_param(sha256)),
        "record replaced objects");
    FP_TRY(dw.query("INSERT INTO raw.load_compactions (prefix, compaction, epoch, table_name, dt, outputs, "
                    "replaced) VALUES ($1, $2, $3, $4, $5::date, $6, $7) ON CONFLICT DO NOTHING",
                    prefix, m->compaction, m->epoch, m->table, m->dt, static_cast<int64_t>(m->outputs.size()),
                    static_cast<int64_t>(m->replaces.size())),
           "record finished compaction");
    FP_CHECK(tx.commit(), "commit");
  }
  return ok_status();
}

}  // namespace

Result<int64_t> finish_runs(pg::Connection& dw, const std::string& prefix, const LoadPlan& plan) {
  FP_CHECK(finish_compactions(dw, prefix, plan), "compactions");
  int64_t swept = 0;
  for (const auto& m : plan.open_runs) {
    std::vector<std::string> keys;
    for (const auto& o : m.objects) keys.push_back(o.key);
    auto records = FP_TRY(object_records(dw, keys), "load manifest");
    int64_t missing = 0, quarantined = 0;
    for (const auto& o : m.objects) {
      auto it = records.find(o.key);
      if (it == records.end())
        ++missing;
      else if (it->second.quarantined)
        ++quarantined;
    }
    // A run with objects not yet accounted for (a load interrupted, an object that failed for a reason not
    // its own) stays open: the next load tries them again.
    if (missing > 0) continue;
    FP_TRY(
        dw.query("INSERT INTO raw.load_runs (prefix, run, epoch, objects, quarantined, source_snapshot_at) "
                 "VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::timestamptz) ON CONFLICT DO NOTHING",
                 prefix, m.range.run, m.range.epoch, static_cast<int64_t>(m.objects.size()), quarantined,
                 m.snapshot_at),
        "record finished run");
    // Sweeping after a re-export with objects missing would delete their rows as if the source had.
    if (m.range.xid_from != 0 || m.range.epoch <= 1 || quarantined > 0) continue;
    auto done = FP_TRY(
        dw.query("SELECT 1 FROM raw.load_epochs WHERE prefix = $1 AND epoch = $2", prefix, m.range.epoch),
        "epoch sweep");
    if (done.empty()) swept += FP_TRY(sweep_epoch(dw, prefix, m.range.epoch, m.range.run), "sweep");
  }
  return swept;
}

}  // namespace fp::batch
