// `fleetpipe retain`: the operational database's hot window (docs/ARCHITECTURE.md "Data lifecycle").
//
// trips is partitioned by measurement_time (sql/webapp/010_trips_partitioned.sql). Each run:
//   1. keeps the next partitions ready (trip_partitions_ensure for now and the two intervals after it);
//   2. copies the source's ledger of dropped partitions to the warehouse (ops.retention_drops) if a crash
//      came between a drop and its copy;
//   3. for each partition that ended more than the hot window ago, oldest first, compares its rows with
//      raw.trips' live rows of the same range: row count and checksum (verify's canonical text), the
//      source read in one snapshot. Equal: the database function trip_partition_drop drops it, provided
//      nothing was written to or deleted from the range since that snapshot, and records the figures in the
//      same transaction (verify counts them as the source's from then on). Not equal (an export or a load
//      still to come, a quarantined object, a hand-made change): the partition stays, the difference is
//      recorded in ops.retention_checks, and it is compared again after a pause that doubles each time.
//   4. then the warehouse's raw day partitions past their own retention (retain/raw_days.h).
// A partition is therefore never dropped before every one of its rows is in the warehouse exactly once;
// the drop removes no row from the warehouse and sends nothing downstream (no trigger, no WAL for rows).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "retain/raw_days.h"

namespace fp::retain {

struct RetainOptions {
  std::string prefix;  // the bucket prefix whose warehouse tables the partitions are compared with
  bool dry_run = false;
  // Partitions compared in one run at most (each costs a read of it on both sides).
  int max_partitions = 16;
  // The pause before a partition that differed is compared again, doubled per failure up to max_pause.
  std::chrono::minutes first_pause{5};
  std::chrono::minutes max_pause{6 * 60};
};

struct PartitionOutcome {
  std::string partition;
  std::string range_start, range_end;
  int64_t source_rows = 0;
  int64_t warehouse_rows = 0;
  bool dropped = false;
  std::string reason;  // why it stays (empty when dropped)
};

struct RetainReport {
  int partitions_made = 0;   // ahead of the writers
  int drops_recorded = 0;    // earlier drops copied to the warehouse (a run stopped between the two)
  int64_t rows_dropped = 0;  // rows of the partitions dropped by this run
  int waiting = 0;           // partitions past the window still paused after an earlier difference
  int64_t default_rows = 0;  // rows in trips_default (written without a partition; never dropped)
  std::vector<PartitionOutcome> partitions;  // the ones compared by this run
  // The warehouse's raw day partitions past FLEETPIPE_WAREHOUSE_RAW_RETENTION (none when it is unset) that
  // this run looked at, after the source's drops (retain/raw_days.h).
  std::vector<RawPartitionOutcome> raw_partitions;
  int64_t raw_rows_dropped = 0;
};

Result<RetainReport> run_retain(const Config& cfg, const RetainOptions& opts);

// The pause before comparing again a partition that differed `failures` times (1, 2, ...).
std::chrono::minutes retry_pause(int failures, std::chrono::minutes first, std::chrono::minutes max);

}  // namespace fp::retain
