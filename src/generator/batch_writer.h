// The writing half of `fleetpipe generate` (generator/runner.h): the sinks, and one batch written to all of
// them in the order that makes "delivered" mean every sink confirmed it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/error.h"
#include "generator/batch.h"
#include "generator/kafka_sink.h"
#include "generator/pg_sink.h"
#include "generator/runner.h"
#include "generator/source.h"

namespace fp::gen {

// The sinks of one run. `pg` is there whenever Postgres or Kafka is a sink: it holds the checkpoint in the
// webapp database even when Kafka is the only row sink.
struct Sinks {
  std::unique_ptr<PgSink> pg;
  std::unique_ptr<KafkaSink> kafka;
  std::FILE* csv_out = nullptr;  // stdout for "-"

  void close_csv() {
    if (csv_out && csv_out != stdout) std::fclose(csv_out);
    csv_out = nullptr;
  }
};

struct Totals {
  uint64_t delivered = 0, rejected = 0;  // cumulative over the run id (resumed runs continue the counts)
  uint64_t delivered_now = 0, rejected_now = 0, pg_inserted = 0, pg_duplicates = 0, kafka_delivered = 0;
};

// Writes batches in order and counts a batch delivered only once every sink confirmed it.
class BatchWriter {
 public:
  BatchWriter(const GenerateOptions& options, Sinks& sinks, const Source& source, std::string run_id,
              Totals totals)
      : o_(options), sinks_(sinks), source_(source), run_id_(std::move(run_id)), t_(totals) {}

  // Produce → stage → flush → commit, then the CSV file (see write() for why in that order). `finished`
  // marks the run's checkpoint finished (the empty last batch after the source ended).
  Status write(const Batch& b, bool finished);

  const Totals& totals() const { return t_; }

 private:
  Result<PgWrite> stage_flush_commit(const Batch& b, const Checkpoint& cp, bool& kafka_flushed);
  Status append_csv(const Batch& b);
  void count_delivered(const Batch& b);

  const GenerateOptions& o_;
  Sinks& sinks_;
  const Source& source_;
  const std::string run_id_;
  Totals t_;
};

}  // namespace fp::gen
