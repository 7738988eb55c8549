// Compaction's part of the batch lane's contract (layout.h has the rest): after a day closes, `fleetpipe
// compact` rewrites the small objects that export runs left for one table and day into a few large ones.
//
//   <prefix><table>/dt=<day>/<table>-[deletes-]<first id>-<last id>-c<n>-<part>.ndjson.gz   the large objects
//   <prefix>manifests/compactions/c-<n>.intent.json   compaction n's table, day and the objects it replaces
//   <prefix>manifests/compactions/c-<n>.json          the commit: the objects it wrote and those it replaces
//   <prefix>manifests/compactions/CURSOR.json         how far the compactor has read the runs (a hint)
//
// A compacted object holds exactly the lines of the objects it replaces (every row version and tombstone,
// byte for byte, in their order), so loading it is the same as loading them. Runs' manifests are never
// rewritten: what the bucket holds is the committed runs' objects, minus the objects committed compactions
// replace, plus the objects those compactions wrote (effective_objects()); one PUT of c-<n>.json switches a
// day from the one set to the other, atomically for every reader. The replaced objects are deleted after
// the commit, and the intent last, so a crash at any point leaves either an uncommitted compaction (its
// objects are not listed by anything and are removed by the next pass) or a committed one whose replaced
// objects are still to be deleted (the next pass finishes it). Compactions are numbered 1, 2, ... in the
// order they commit, so readers that have seen up to n list only what came after.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch/layout.h"
#include "common/error.h"
#include "common/s3/client.h"

namespace fp::batch {

struct CompactionManifest {
  int64_t compaction = 0;
  int epoch = 1;
  std::string table;
  std::string dt;
  // The union of the replaced objects' transaction ranges: every line's _source_xid is within it.
  uint64_t xid_from = 0;
  uint64_t xid_to = 0;
  std::vector<ObjectEntry>
      replaces;  // objects of runs or of earlier compactions, as their manifests list them
  std::vector<ObjectEntry> outputs;  // empty in an intent
  std::string committed_at;          // UTC, ISO 8601; empty in an intent
  nlohmann::json to_json() const;
  static Result<CompactionManifest> from_json(const nlohmann::json& j);
  // Rows of one kind across outputs or replaced objects; a commit conserves both.
  static int64_t rows_of(const std::vector<ObjectEntry>& objects, ObjectKind kind);
};

std::string compaction_key(std::string_view prefix, int64_t n);
std::string compaction_intent_key(std::string_view prefix, int64_t n);
std::string compaction_cursor_key(std::string_view prefix);
std::string compacted_key(std::string_view prefix, std::string_view table, std::string_view dt,
                          int64_t first_id, int64_t last_id, int64_t compaction, int part, ObjectKind kind);

// What manifests/compactions/ holds after compaction `after`: committed compactions, and intents (with or
// without their commit: an intent beside its commit is a compaction whose replaced objects are still being
// deleted).
struct CompactionState {
  std::vector<int64_t> committed;  // ascending
  std::vector<int64_t> intents;    // ascending
  int64_t highest() const;         // the highest number used (0: none)
};
Result<CompactionState> read_compaction_state(s3::Client& s3, std::string_view prefix, int64_t after = 0);
Result<CompactionManifest> read_compaction(s3::Client& s3, std::string_view prefix, int64_t n);
Result<CompactionManifest> read_compaction_intent(s3::Client& s3, std::string_view prefix, int64_t n);

// The objects the bucket holds for readers: the runs' objects with every committed compaction applied in
// order. Each compaction must replace objects present at its turn, with the same bytes and one table, day
// and epoch, and conserve the rows of each kind; any breach is named in `problems` and that compaction is
// not applied (the objects it lists stay out of `objects`).
struct EffectiveObjects {
  struct Object {
    ObjectEntry entry;
    int epoch = 1;
    uint64_t xid_from = 0, xid_to = 0;  // the run's (or the compaction's) transaction range
    int64_t run = 0;                    // the run that listed it, or 0
    int64_t compaction = 0;             // the compaction that wrote it, or 0
  };
  std::map<std::string, Object> objects;
  std::map<std::string, int64_t> replaced;  // key -> the compaction that replaced it
  std::vector<std::string> problems;
};
EffectiveObjects effective_objects(const std::vector<RunManifest>& runs,
                                   const std::vector<CompactionManifest>& compactions);

}  // namespace fp::batch
