// `fleetpipe export`: incremental, exactly-once extraction of drivers, vehicles and trips from the webapp
// database into the bucket as gzip NDJSON objects plus one manifest per run (layout in
// common/batch/layout.h).
//
// Watermark. Each webapp row carries _export_xid, the id of the transaction that last wrote it (migration
// sql/webapp/004_export_xid.sql). A run exports the rows with _export_xid in [from, to), where `from` is the
// previous committed manifest's `to` and `to` = pg_snapshot_xmin(pg_current_snapshot()) taken by this run:
// every transaction below a snapshot's xmin has ended, so no row can ever appear in that range again. A
// transaction that inserted an early id but commits after the export is still running (or not yet started
// as far as that snapshot is concerned), so its xid is >= xmin and the next run exports its rows. Row ids
// are never the watermark; they only name the objects.
//
// Durability and crash safety. The watermark lives in the bucket with the data: run N's range is written as
// manifests/run-N.intent.json before any object, and manifests/run-N.json (the commit point) after all of
// them. A crashed run is redone with the intent's exact range; rows in a finished xid range do not change
// (short of an UPDATE, which moves a row into a later range), the query orders by id and object boundaries
// are a function of the rows, and gzip output is deterministic, so the rerun writes the same keys with the
// same bytes: nothing skipped, nothing doubled. A session advisory lock keeps two exports from interleaving.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/error.h"

namespace fp::batch {

struct ExportOptions {
  std::string prefix;  // key prefix inside the bucket ("" or "something/")
  int64_t max_rows_per_object = 250000;
  int gzip_level = 1;
  bool progress = true;
  bool new_epoch = false;  // re-export everything into the next epoch (after a restore; see the README)
};

struct ExportReport {
  int64_t run = 0;  // 0 when there was nothing to do
  int epoch = 0;
  uint64_t xid_from = 0, xid_to = 0;
  int64_t rows = 0;
  int64_t deletes = 0;  // tombstones exported
  int64_t objects = 0;
  int64_t bytes = 0;
  bool resumed = false;    // redid a crashed run's range
  bool new_epoch = false;  // started a new epoch
};

Result<ExportReport> run_export(const Config& cfg, const ExportOptions& opts);

}  // namespace fp::batch
