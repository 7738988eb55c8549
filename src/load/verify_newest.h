// `verify`'s exact source->bucket check of the newest committed run, per table. The run's row objects are
// read (so the check costs what the run exported, not the history) and their ids set against the source:
//   - each id appears once across the run's objects of the table (no version exported twice);
//   - every source row whose version lies in the run's xid range is in them (no gap);
//   - every other id in them is one the source has changed (a newer version) or deleted since (no extra).
// So the run's row count equals the source's rows in its range plus the rows changed since, exactly: the
// count over all runs can only be "at least" (older runs' rows may since have moved on), this one is equal.
#pragma once

#include <string>

#include "common/batch/layout.h"
#include "common/error.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "load/verify.h"

namespace fp::batch {

Result<VerifyLine> newest_run_exact(pg::Connection& src, s3::Client& s3, const TableSpec& t,
                                    const RunManifest& run);

}  // namespace fp::batch
