// What a load has to do, read from the committed run manifests (the only authority on what the bucket
// should hold) and the warehouse's records of what it loaded:
//   - runs the warehouse has finished (raw.load_runs) are not read again, and below the first unfinished run
//     not even listed (ListObjectsV2 start-after), so a load costs what is new;
//   - of the other runs, those of an older epoch than the newest are superseded (never loaded);
//   - each object of the newest epoch's unfinished runs is pending unless raw.load_manifest has its key with
//     the manifest's sha256, or a committed compaction replaced it;
//   - compactions are followed the same way (raw.load_compactions): the objects of an unfinished one are
//     pending unless loaded already, or recorded without a read when all it replaced was loaded.
// After the objects are loaded, finish_runs() records the runs whose objects are all accounted for, and
// sweeps a new epoch once its first run (a full re-export) is loaded: every raw row an older epoch left
// that the re-export did not carry is marked deleted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/batch/compaction.h"
#include "common/batch/layout.h"
#include "common/error.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"

namespace fp::batch {

struct PendingObject {
  ObjectEntry entry;  // as the committed manifest lists it
  const TableSpec* table = nullptr;
  RunRange range;          // of the run that lists it (run 0 and the union of the ranges for a compaction)
  int64_t compaction = 0;  // the compaction that wrote it, or 0 for an export run's object
};

struct LoadPlan {
  int epoch = 0;                       // the newest committed epoch (0: no committed run yet)
  std::vector<RunManifest> open_runs;  // unfinished runs of that epoch, ascending
  std::vector<PendingObject> pending;
  int64_t already_loaded = 0;      // objects of open runs loaded by an earlier, interrupted load
  int64_t quarantined_before = 0;  // objects of open runs an earlier load quarantined
  int64_t superseded = 0;          // objects of unfinished runs of an older epoch: never loaded
  std::vector<int64_t> superseded_runs;
  // Committed compactions (common/batch/compaction.h) of that epoch the warehouse has not finished,
  // ascending, and the keys they replace: such a key is never loaded (it may be gone); the compaction's
  // objects are, unless every object they replace was loaded already, when they are recorded as loaded
  // without being read (their lines are exactly those objects' lines).
  std::vector<CompactionManifest> open_compactions;
  std::map<std::string, int64_t> replaced;
  int64_t via_compaction = 0;  // compacted objects recorded so
};

// The lowest run the warehouse has not finished (runs are numbered 1, 2, ... without gaps; raw.load_runs
// holds the finished and the superseded ones).
Result<int64_t> first_unfinished_run(pg::Connection& dw, const std::string& prefix);

Result<LoadPlan> plan_load(s3::Client& s3, pg::Connection& dw, const std::string& prefix);

// Records each open compaction whose objects are all accounted for (its replaced keys then count as
// accounted too, in raw.load_replaced), then each open run whose objects are all loaded, quarantined or
// replaced (quarantined counts the run's objects that were refused), then sweeps the epoch if its first
// run is among the finished. Returns the rows swept.
Result<int64_t> finish_runs(pg::Connection& dw, const std::string& prefix, const LoadPlan& plan);

}  // namespace fp::batch
