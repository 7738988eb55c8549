// The PostgreSQL sink: one transaction per batch that upserts the batch's new drivers and vehicles, loads
// its rows, and moves the run's checkpoint, so a batch is either wholly visible with its checkpoint or not
// at all. Rows go straight into `trips` by COPY while no natural-key conflict has been seen (as fast as
// psql's \copy); after the first conflict (a re-run over the same input) the run switches to COPY into a
// temporary staging table followed by INSERT ... ON CONFLICT DO NOTHING, which skips the duplicates.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/pg/connection.h"
#include "common/trip/partitions.h"
#include "generator/batch.h"

namespace fp::gen {

struct Checkpoint {
  std::string run_id;
  std::string source;
  uint64_t position = 0;  // input consumed: CSV lines (header included) or simulator rows
  uint64_t delivered = 0;
  uint64_t rejected = 0;
  bool finished = false;
};

struct PgWrite {
  uint64_t inserted = 0;
  uint64_t duplicates = 0;
};

class PgSink {
 public:
  // Connects (retrying with backoff); the error names host:port/db.
  static Result<std::unique_ptr<PgSink>> connect(const PgConfig& cfg);

  Result<std::optional<Checkpoint>> load_checkpoint(const std::string& run_id);

  // Opens the batch's transaction and writes vehicles, rows (unless rows_too is false: the checkpoint-only
  // mode used when Kafka is the only row sink) and the checkpoint. Nothing is visible until commit().
  Result<PgWrite> stage(const Batch& batch, const Checkpoint& cp, bool rows_too);
  Status commit();
  void rollback();

  std::string endpoint() const;

 private:
  PgSink() = default;
  Status ensure_connected();
  Status copy_rows(std::string_view copy_sql, const std::string& data);

  PgConfig cfg_;
  std::unique_ptr<pg::Connection> conn_;
  std::optional<pg::Transaction> tx_;
  trip::PartitionMinutes partition_minutes_;  // which minutes of trips already have a partition
  std::optional<bool> partitioned_;           // whether the database has trip_partitions_ensure
  bool staged_mode_ = false;
};

}  // namespace fp::gen
