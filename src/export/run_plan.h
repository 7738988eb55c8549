// Which run `fleetpipe export` does next, and whether the bucket's watermark may be trusted for it
// (docs/ARCHITECTURE.md "Batch lane"). A run's range is [xid_from, xid_to) of the source's transaction ids;
// its intent (manifests/run-N.intent.json) is written here, before any object.
//
//   - a pending intent: the crashed run is redone with its exact range;
//   - otherwise a new run from the last committed run's xid_to up to the current snapshot's xmin;
//   - `--new-epoch`: a run of the next epoch from xid 0, after rows stamped with transaction ids from another
//     database's future are given current ones.
//
// The watermark is refused, with the recovery in the message, when the last manifest names another source
// database (system identifier, database oid), lies ahead of the source's next transaction id, or when a row
// carries a transaction id the source has not reached.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/batch/layout.h"
#include "common/error.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "export/exporter.h"

namespace fp::batch {

// What a run covers: its range and the snapshot its range was taken from.
struct RunPlan {
  RunRange range;
  std::string snapshot;
  std::string snapshot_at;  // when it was taken (UTC, ISO 8601)
};

// The source database as the export sees it now.
struct SourceState {
  SourceIdentity identity;
  std::string snapshot;
  std::string snapshot_at;  // clock time of the snapshot (UTC, ISO 8601)
  uint64_t xmin = 0;        // every transaction below has ended
  uint64_t xmax = 0;        // the next transaction id to be assigned
};

Result<SourceState> read_source(pg::Connection& conn);

// nullopt: nothing to do. Sets report.resumed or report.new_epoch.
Result<std::optional<RunPlan>> plan_run(s3::Client& s3, pg::Connection& conn, const ExportOptions& opts,
                                        bool new_epoch, ExportReport& report);

}  // namespace fp::batch
