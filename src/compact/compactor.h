// `fleetpipe compact`: after a day closes, rewrites each table's small objects of that day into a few large
// ones, committed by one compaction manifest per table and day (the contract and its crash safety are in
// common/batch/compaction.h).
//
// A pass:
//   1. finishes what a crashed pass left: a committed compaction whose replaced objects are still there has
//      them deleted; an uncommitted one has the objects it wrote deleted; then their intents go;
//   2. reads the manifests of the runs since its cursor (cost follows what is new) for the days they wrote,
//      beside the days it was already waiting for;
//   3. compacts each such day that ended FLEETPIPE_BUCKET_COMPACT_AFTER ago: the day's objects of the newest
//      epoch smaller than half of FLEETPIPE_BUCKET_COMPACT_TARGET, from runs older than the newest (verify
//      reads the newest run's objects), when there are two or more of a kind. Each is read, checked against
//      its manifest entry (SHA-256 of the bytes as stored, row count, a complete gzip stream) and its lines
//      copied as they are into objects of about the target size;
//   4. moves its cursor.
// A session advisory lock on the webapp database keeps a second compactor away.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace fp::compact {

struct CompactOptions {
  std::string prefix;
  bool dry_run = false;
  bool progress = true;
  int gzip_level = 6;   // the objects are kept for long: smaller beats faster here
  int max_days = 50;    // (table, day)s compacted in one pass at most: a long backlog is spread over passes
  int max_runs = 5000;  // run manifests read in one pass at most
};

struct DayOutcome {
  std::string table;
  std::string dt;
  int64_t compaction = 0;  // 0: not compacted (see `skipped`)
  int64_t replaced = 0;    // objects replaced
  int64_t outputs = 0;
  int64_t rows = 0;  // lines copied (row versions and tombstones)
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
  std::string skipped;  // why not, when not
};

struct CompactReport {
  std::vector<DayOutcome> days;
  int64_t finished = 0;  // committed compactions of a crashed pass whose replaced objects were deleted now
  int64_t aborted = 0;   // uncommitted compactions of a crashed pass cleaned away
  int64_t runs_read = 0;
  int64_t waiting = 0;  // days not closed yet (or beyond max_days), compacted on a later pass
};

Result<CompactReport> run_compact(const Config& cfg, const CompactOptions& opts);

}  // namespace fp::compact
