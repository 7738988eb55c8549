#include "generator/batch_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/retry.h"

namespace fp::gen {

// The order is a correctness property: the rows are produced to Kafka first, the batch and its checkpoint
// are staged in one PostgreSQL transaction, the delivery report of every Kafka message is awaited, and only
// then is the transaction committed. The checkpoint therefore never moves past a row that some sink has not
// confirmed: a crash before the commit leaves it before the batch, and a resume sends the batch again.
Status BatchWriter::write(const Batch& b, bool finished) {
  const Checkpoint cp{
      run_id_, source_.describe(), b.end_position, t_.delivered + b.rows, t_.rejected + b.rejected, finished};
  if (sinks_.kafka) FP_CHECK(sinks_.kafka->produce(b), "kafka");
  bool kafka_flushed = !sinks_.kafka;
  if (sinks_.pg) {
    auto w = retry<PgWrite>(fmt::format("write batch to {}", sinks_.pg->endpoint()),
                            Backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(5000), 6},
                            [&] { return stage_flush_commit(b, cp, kafka_flushed); });
    if (!w.ok()) return std::move(w).error();
    t_.pg_inserted += w->inserted;
    t_.pg_duplicates += w->duplicates;
  }
  if (auto s = append_csv(b); !s.ok()) return s;
  count_delivered(b);
  return ok_status();
}

// One attempt of the PostgreSQL part, retried whole: a failed attempt rolls back, and a flush that already
// succeeded is not repeated by the next attempt.
Result<PgWrite> BatchWriter::stage_flush_commit(const Batch& b, const Checkpoint& cp, bool& kafka_flushed) {
  PgSink& pg = *sinks_.pg;
  auto w = pg.stage(b, cp, o_.sink_postgres);
  if (!w.ok()) {
    pg.rollback();
    return w;
  }
  if (!kafka_flushed) {
    // Delivery reports for the whole batch before the checkpoint may move past it.
    if (auto s = sinks_.kafka->flush(); !s.ok()) {
      pg.rollback();
      return std::move(s).error().as(Error::Kind::kPermanent);
    }
    kafka_flushed = true;
  }
  FP_CHECK(pg.commit(), "commit");
  return w;
}

Status BatchWriter::append_csv(const Batch& b) {
  if (!sinks_.csv_out || b.csv.empty()) return ok_status();
  if (std::fwrite(b.csv.data(), 1, b.csv.size(), sinks_.csv_out) != b.csv.size() ||
      std::fflush(sinks_.csv_out) != 0)
    return make_error("write {}: {}", o_.csv_out, std::strerror(errno));
  return ok_status();
}

void BatchWriter::count_delivered(const Batch& b) {
  t_.delivered += b.rows;
  t_.rejected += b.rejected;
  t_.delivered_now += b.rows;
  t_.rejected_now += b.rejected;
  if (sinks_.kafka) t_.kafka_delivered = sinks_.kafka->delivered();
}

}  // namespace fp::gen
