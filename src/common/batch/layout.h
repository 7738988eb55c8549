// The batch lane's contract between `fleetpipe export` and `fleetpipe load`: which tables travel, their
// columns and JSON types, and where things live in the bucket.
//
//   <prefix><table>/dt=<YYYY-MM-DD>/<table>-<first id>-<last id>-r<run>.ndjson.gz          rows (gzip NDJSON)
//   <prefix><table>/dt=<YYYY-MM-DD>/<table>-deletes-<first id>-<last id>-r<run>.ndjson.gz  tombstones
//   <prefix>manifests/run-<run>.intent.json   the xid range a run is about to export (written first)
//   <prefix>manifests/run-<run>.json          the committed run: epoch, source, range, objects, checksums
//   <prefix>quarantine/<data key>[.reason.txt] objects the loader refused, and why
//   <prefix>manifests/compactions/...          closed days' small objects rewritten as large ones
//                                              (common/batch/compaction.h)
//
// A row object's lines are the table's columns plus _source_xid; a tombstone object's lines are
// {"id", "day", "_source_xid"}: the source deleted that id in that transaction. The committed run manifest is
// the only authority: the loader loads what a manifest lists, after checking its size, row count and
// SHA-256 (of the bytes as stored, i.e. compressed) against the manifest's entry. The objects' user metadata
// (sha256, rows, table, run) repeats them for people browsing the bucket.
//
// Epochs: a manifest names the source database it was exported from (system identifier and database oid)
// and an epoch number. `export --new-epoch` starts the next epoch at xid 0 (a full re-export) after the
// source was restored or recreated; the loader and verify follow the newest epoch only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/s3/client.h"

namespace fp::batch {

enum class ColumnKind { kInt32, kInt64, kFloat64, kText, kTimestamp, kTimestampTz, kDate };

struct Column {
  std::string_view name;
  ColumnKind kind;
};

struct TableSpec {
  std::string_view name;         // same in webapp (public.<name>) and warehouse (raw.<name>)
  std::vector<Column> columns;   // the exported columns, `id` first
  std::string_view date_column;  // partitions objects by day
};

// The JSON field (and warehouse column _source_xid) that carries the source row version.
inline constexpr std::string_view kSourceXidField = "_source_xid";

const std::vector<TableSpec>& tables();
const TableSpec* find_table(std::string_view name);

// The lines of a table's tombstone objects: id and the day of the deleted row's date column.
const TableSpec& deletes_spec(std::string_view table);

enum class ObjectKind { kRows, kDeletes };
std::string_view kind_name(ObjectKind k);

// The source database a run was exported from. A bucket follows one source per epoch.
struct SourceIdentity {
  std::string system_identifier;  // pg_control_system(): one per cluster (initdb)
  int64_t database_oid = 0;       // a dropped and recreated (or restored) database gets a new one
  bool empty() const { return system_identifier.empty(); }
  bool operator==(const SourceIdentity&) const = default;
  std::string describe() const;
};

struct RunRange {
  int64_t run = 0;
  uint64_t xid_from = 0;  // inclusive
  uint64_t xid_to = 0;    // exclusive
  int epoch = 1;          // manifests written before epochs existed are epoch 1
};

struct ObjectEntry {
  std::string key;
  std::string table;
  std::string dt;
  int64_t first_id = 0;
  int64_t last_id = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string sha256;
  ObjectKind kind = ObjectKind::kRows;
};

// An object as manifests list it (run and compaction manifests alike).
nlohmann::json entry_to_json(const ObjectEntry& o);
Result<ObjectEntry> entry_from_json(const nlohmann::json& j);

struct RunManifest {
  RunRange range;
  std::string snapshot;  // pg_current_snapshot() of the run that defined the range
  std::vector<ObjectEntry> objects;
  SourceIdentity source;  // empty in manifests written before identities were recorded
  // When that snapshot was taken (UTC, ISO 8601; empty in older manifests): the run holds every source
  // transaction that had ended before the oldest one still running then.
  std::string snapshot_at;
  nlohmann::json to_json() const;
  static Result<RunManifest> from_json(const nlohmann::json& j);
};

std::string data_key(std::string_view prefix, std::string_view table, std::string_view dt, int64_t first_id,
                     int64_t last_id, int64_t run, ObjectKind kind = ObjectKind::kRows);
std::string manifest_key(std::string_view prefix, int64_t run);
std::string intent_key(std::string_view prefix, int64_t run);
std::string quarantine_key(std::string_view prefix, std::string_view data_key);

// Parses a data key under prefix (an export run's or a compaction's); nullopt for keys that are not data
// objects.
struct DataKey {
  ObjectKind kind = ObjectKind::kRows;
  std::string table;
  std::string dt;
  int64_t first_id = 0;
  int64_t last_id = 0;
  int64_t run = 0;         // the export run that wrote it, or 0 for a compacted object
  int64_t compaction = 0;  // the compaction that wrote it (common/batch/compaction.h), or 0
  int part = 0;            // which of that compaction's objects
};
std::optional<DataKey> parse_data_key(std::string_view prefix, std::string_view key);

// What the manifests prefix holds: the highest committed run and an intent for the run after it, if any.
struct ManifestState {
  std::vector<int64_t> committed_runs;  // ascending
  std::optional<int64_t> pending_intent;
};
Result<ManifestState> read_manifest_state(s3::Client& s3, std::string_view prefix);

// <prefix>manifests/HEAD.json: {"run": N}, the newest committed run, written by export after each commit. It
// lets export find its watermark without listing the whole history: the runs after the head are listed with
// start-after, so a head left stale by a crash between the commit and its update costs one short listing,
// never a wrong answer.
std::string head_key(std::string_view prefix);
Status write_manifest_head(s3::Client& s3, std::string_view prefix, int64_t run);
// The newest committed run and the pending intent, like read_manifest_state, from the head and the keys after
// it (committed_runs then holds the head's run and those after it only). Without a head (a bucket written
// before heads existed): the full listing.
Result<ManifestState> read_manifest_head(s3::Client& s3, std::string_view prefix);
// The committed runs after `after` and the pending intent, from the keys listed after run-<after>.json.
Result<ManifestState> read_manifests_after(s3::Client& s3, std::string_view prefix, int64_t after);
Result<RunManifest> read_manifest(s3::Client& s3, std::string_view prefix, int64_t run);

}  // namespace fp::batch
