// `fleetpipe verify`: reconciles the batch lane end to end and prints one PASS/FAIL line per stage and table.
// Only the newest export epoch counts (an older one was superseded by a full re-export).
//
//   source->bucket     row versions the epoch's committed manifests hold vs live source rows below the
//                      latest watermark, and no version exported twice: each run's xid range starts where
//                      the previous one ended, one run's objects of a table cover disjoint ids, no key is
//                      listed twice
//   source->bucket (newest run)  exact, id by id, for the newest committed run: each id once in its row
//                      objects, every source row of its xid range in them, every other id one the source
//                      changed or deleted since; so its count equals the source's (reads that run's objects)
//   bucket             the bucket holds no data object that no committed manifest lists (planted, or left
//                      by a crashed run) and no loaded object whose bytes changed since (ETag); committed
//                      compactions are applied first (common/batch/compaction.h): what they replaced and
//                      have not deleted yet, and the objects of one in progress, are no strangers
//   bucket->warehouse  every object of the epoch's manifests is in raw.load_manifest with its sha256 and row
//                      count (quarantined ones are named)
//   source->warehouse  the live rows, per day: row count and an order-independent checksum,
//                      sum(hashtext(canonical row text)), computed in SQL on both sides over the same
//                      canonical text; for a day that differs, the ids that differ. Only the days that
//                      changed since the previous check are read (load/verify_days.h)
//
// The source side is the rows with _export_xid below the latest committed run's watermark, i.e. what the
// bucket should hold; ids written or deleted in the source since then are left out on both sides (they are
// the next run's). Run it after export and load (the scheduler's order).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace fp::batch {

struct VerifyLine {
  bool pass = false;
  std::string stage;
  std::string table;
  std::string detail;
};

// kAll: every stage above over the whole history (the scheduler's full-test schedule, and the CLI's default).
// kNewestRun: what the last export added, at a cost that does not grow with history (every scheduler run):
// source->bucket (newest run) and bucket->warehouse for that run's objects only.
enum class VerifyScope { kAll, kNewestRun };

struct VerifyOptions {
  std::string prefix;
  VerifyScope scope = VerifyScope::kAll;
  bool reread_all_days = false;  // source->warehouse: ignore the per-day checksums kept by earlier checks
};

Result<std::vector<VerifyLine>> run_verify(const Config& cfg, const VerifyOptions& opts);

// The first few items, comma-separated, and how many more (one line names a few keys, days or ids at most).
std::string first_few(const std::vector<std::string>& items);

}  // namespace fp::batch
