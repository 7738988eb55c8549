#include "generator/runner.h"

#include <fmt/format.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/progress.h"
#include "common/retry.h"
#include "common/shutdown.h"
#include "generator/kafka_sink.h"
#include "generator/pg_sink.h"
#include "generator/source.h"

namespace fp::gen {

namespace {

constexpr std::string_view kC = "generate";
constexpr uint64_t kRejectionsLogged = 10000;

// A bounded hand-off between the reader thread and the writer: at most `capacity` batches in flight keeps
// memory flat however fast the source is.
class BatchQueue {
 public:
  explicit BatchQueue(size_t capacity) : capacity_(capacity) {}
  // False when the consumer stopped.
  bool push(Batch b) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return q_.size() < capacity_ || stopped_; });
    if (stopped_) return false;
    q_.push_back(std::move(b));
    cv_.notify_all();
    return true;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  std::optional<Batch> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    Batch b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> q_;
  size_t capacity_;
  bool closed_ = false, stopped_ = false;
};

struct Totals {
  uint64_t delivered = 0, rejected = 0;  // cumulative over the run id (resumed runs continue the counts)
  uint64_t delivered_now = 0, rejected_now = 0, pg_inserted = 0, pg_duplicates = 0, kafka_delivered = 0;
};

void report_rejection(uint64_t line, const std::string& reason, uint64_t nth, bool csv) {
  if (nth <= kRejectionsLogged) {
    log::emit(log::Level::kWarn, kC, fmt::format("{} {}: {}", csv ? "line" : "row", line, reason),
              {{"line", line}, {"reason", reason}});
  } else if (nth == kRejectionsLogged + 1) {
    log::warn(kC, "more than {} rejected rows; the rest are counted, not listed", kRejectionsLogged);
  }
}

// --strict: every line is checked before anything is written.
int strict_precheck(const std::string& path) {
  auto src = open_csv(path);
  if (!src.ok()) {
    log::error(kC, "{}", src.error().message);
    return 1;
  }
  Measurement m;
  std::string reason;
  uint64_t bad = 0, good = 0;
  for (;;) {
    auto n = (*src)->next(m, reason);
    if (!n.ok()) {
      log::error(kC, "{}", n.error().message);
      return 1;
    }
    if (*n == Source::Next::kEnd) break;
    if (*n == Source::Next::kRow) {
      ++good;
      continue;
    }
    report_rejection((*src)->position(), reason, ++bad, true);
  }
  if (bad == 0) return 0;
  log::error(kC, "--strict: {} of {} rows rejected; nothing written", bad, bad + good);
  std::cout << nlohmann::json{{"rows_delivered", 0},
                              {"rows_rejected", bad},
                              {"rows_valid", good},
                              {"strict", true}}
                   .dump()
            << std::endl;
  return 3;
}

Status write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();
  if (!f) return make_error("write {}", p.string());
  return ok_status();
}

}  // namespace

int run_generate(const GenerateOptions& o, const Config& config) {
  const bool csv_source = !o.simulate;
  if (csv_source && o.strict) {
    if (int rc = strict_precheck(o.csv_path); rc != 0) return rc;
  }

  std::unique_ptr<Source> source;
  if (csv_source) {
    auto s = open_csv(o.csv_path);
    if (!s.ok()) {
      log::error(kC, "{}", s.error().message);
      return 1;
    }
    source = std::move(*s);
  } else {
    source = make_simulator_source(o.sim, o.count);
    if (!o.attributes_out.empty()) {
      Simulator sim(o.sim);
      std::vector<Driver> drivers;
      for (const auto& v : sim.vehicles()) drivers.push_back(driver_for(v.driver_id));
      std::filesystem::path dir(o.attributes_out);
      for (auto st : {write_file(dir / "vehicles.csv", vehicles_csv(sim.vehicles())),
                      write_file(dir / "drivers.csv", drivers_csv(drivers))})
        if (!st.ok()) {
          log::error(kC, "{}", st.error().message);
          return 1;
        }
    }
  }
  const std::string run_id = o.run_id.empty() ? source->describe() : o.run_id;

  // Sinks. The checkpoint lives in the webapp database whenever Postgres or Kafka is a sink.
  std::unique_ptr<PgSink> pg;
  std::unique_ptr<KafkaSink> kafka;
  const bool checkpointed = o.sink_postgres || o.sink_kafka;
  if (checkpointed) {
    auto p = PgSink::connect(config.webapp);
    if (!p.ok()) {
      log::error(kC, "{}", p.error().message);
      return 1;
    }
    pg = std::move(*p);
  }
  if (o.sink_kafka) {
    auto k = KafkaSink::create(KafkaSinkOptions{config.kafka_bootstrap, o.topic, o.kafka_timeout_ms});
    if (!k.ok()) {
      log::error(kC, "{}", k.error().message);
      return 1;
    }
    kafka = std::move(*k);
  }
  std::FILE* csv_out = nullptr;
  if (!o.csv_out.empty()) {
    csv_out = o.csv_out == "-" ? stdout : std::fopen(o.csv_out.c_str(), "wb");
    if (!csv_out) {
      log::error(kC, "open {}: {}", o.csv_out, std::strerror(errno));
      return 1;
    }
    std::fprintf(csv_out, "%.*s\n", static_cast<int>(kCsvHeader.size()), kCsvHeader.data());
  }
  auto close_csv = [&] {
    if (csv_out && csv_out != stdout) std::fclose(csv_out);
    csv_out = nullptr;
  };

  Totals t;
  uint64_t resumed_from = 0;
  if (o.resume && pg) {
    auto cp = pg->load_checkpoint(run_id);
    if (!cp.ok()) {
      log::error(kC, "{}", cp.error().message);
      return 1;
    }
    if (!*cp) {
      log::info(kC, "no checkpoint for run {}; starting from the beginning", run_id);
    } else if ((*cp)->finished) {
      log::info(kC, "run {} already finished ({} rows delivered); nothing to do", run_id, (*cp)->delivered);
      std::cout << nlohmann::json{{"run_id", run_id},
                                  {"rows_delivered", 0},
                                  {"rows_rejected", 0},
                                  {"total_delivered", (*cp)->delivered},
                                  {"already_finished", true}}
                       .dump()
                << std::endl;
      return 0;
    } else {
      if ((*cp)->source != source->describe())
        log::warn(kC, "checkpoint of run {} was written for {}, now reading {}", run_id, (*cp)->source,
                  source->describe());
      if (auto st = source->skip_to((*cp)->position); !st.ok()) {
        log::error(kC, "resume: {}", st.error().message);
        return 1;
      }
      resumed_from = (*cp)->position;
      t.delivered = (*cp)->delivered;
      t.rejected = (*cp)->rejected;
      log::info(kC, "resuming run {} at position {} ({} rows delivered before)", run_id, resumed_from,
                t.delivered);
    }
  } else if (o.resume) {
    log::warn(kC, "--resume needs the postgres or kafka sink (the checkpoint is in the webapp database)");
  }

  // ---- reader thread ----
  BatchQueue queue(2);
  std::optional<Error> reader_error;
  std::atomic<bool> source_ended{false};
  const Batch::Formats formats{.copy = o.sink_postgres, .json = o.sink_kafka, .csv = csv_out != nullptr};
  std::thread reader([&] {
    Pacer pacer(o.pacing);
    const auto start = Pacer::Clock::now();
    std::set<int32_t> seen;
    Batch cur;
    cur.end_position = source->position();
    Pacer::Clock::time_point batch_started{};
    uint64_t index = 0, rejected_seen = 0;
    Measurement m;
    std::string reason;
    auto hand_off = [&] {
      const uint64_t pos = cur.end_position;
      bool ok = queue.push(std::move(cur));
      cur = Batch{};
      cur.end_position = pos;
      return ok;
    };
    bool stopped = false;
    while (!shutdown::requested()) {
      auto n = source->next(m, reason);
      if (!n.ok()) {
        reader_error = std::move(n).error();
        break;
      }
      if (*n == Source::Next::kEnd) {
        source_ended = true;
        break;
      }
      if (*n == Source::Next::kRejected) {
        report_rejection(source->position(), reason, ++rejected_seen, csv_source);
        ++cur.rejected;
        cur.end_position = source->position();
        continue;
      }
      if (auto due = pacer.due(index, m.measurement_time)) {
        const auto target = start + *due;
        if (target > Pacer::Clock::now()) {
          // Don't hold rows already in hand while waiting longer than the latency allows.
          if (cur.rows > 0 && target - batch_started >= o.max_latency && !hand_off()) {
            stopped = true;
            break;
          }
          if (!wait_until(target))
            break;  // shutdown: this row is not in the checkpoint, a resume reads it again
        }
      }
      if (seen.insert(m.vehicle_id).second) {
        Vehicle v = vehicle_for(m.vehicle_id);
        v.fuel_capacity = m.fuel_capacity;  // the input's values win over the derived ones
        v.color = m.color;
        cur.new_vehicles.push_back(std::move(v));
      }
      if (cur.rows == 0) batch_started = Pacer::Clock::now();
      cur.add(m, formats);
      cur.end_position = source->position();
      ++index;
      if (cur.rows >= o.batch_rows && !hand_off()) {
        stopped = true;
        break;
      }
    }
    if (!stopped && (cur.rows > 0 || cur.rejected > 0)) hand_off();
    queue.close();
  });

  // ---- writer (this thread) ----
  Progress progress(
      "generate", "generate",
      {.unit = "rows", .total = 0, .tty = o.progress_tty, .second_count = "rejected", .final_report = false});
  const auto started = std::chrono::steady_clock::now();
  std::optional<Error> writer_error;
  auto write_batch = [&](const Batch& b, bool finished) -> Status {
    Checkpoint cp{run_id,  source->describe(), b.end_position, t.delivered + b.rows, t.rejected + b.rejected,
                  finished};
    if (kafka) FP_CHECK(kafka->produce(b), "kafka");
    bool kafka_flushed = !kafka;
    auto pg_part = [&]() -> Result<PgWrite> {
      auto w = pg->stage(b, cp, o.sink_postgres);
      if (!w.ok()) {
        pg->rollback();
        return w;
      }
      if (!kafka_flushed) {
        // Delivery reports for the whole batch before the checkpoint may move past it.
        if (auto s = kafka->flush(); !s.ok()) {
          pg->rollback();
          return Error{s.error().message, Error::Kind::kPermanent};
        }
        kafka_flushed = true;
      }
      FP_CHECK(pg->commit(), "commit");
      return w;
    };
    if (pg) {
      auto w = retry<PgWrite>(fmt::format("write batch to {}", pg->endpoint()),
                              Backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(5000), 6},
                              pg_part);
      if (!w.ok()) return std::move(w).error();
      t.pg_inserted += w->inserted;
      t.pg_duplicates += w->duplicates;
    }
    if (csv_out && !b.csv.empty()) {
      if (std::fwrite(b.csv.data(), 1, b.csv.size(), csv_out) != b.csv.size() || std::fflush(csv_out) != 0)
        return make_error("write {}: {}", o.csv_out, std::strerror(errno));
    }
    t.delivered += b.rows;
    t.rejected += b.rejected;
    t.delivered_now += b.rows;
    t.rejected_now += b.rejected;
    if (kafka) t.kafka_delivered = kafka->delivered();
    return ok_status();
  };

  while (auto b = queue.pop()) {
    if (auto s = write_batch(*b, false); !s.ok()) {
      writer_error = std::move(s).error();
      queue.stop();
      break;
    }
    progress.update(t.delivered_now, t.rejected_now, source->done_fraction());
  }
  // Unblock the reader if the writer stopped early, then wait for it.
  queue.stop();
  reader.join();
  progress.finish();

  const bool interrupted = shutdown::requested();
  if (!writer_error && !reader_error && source_ended && pg) {
    Batch empty;
    empty.end_position = source->position();
    if (auto s = write_batch(empty, true); !s.ok()) writer_error = std::move(s).error();
  }
  if (kafka) {
    if (auto s = kafka->close(); !s.ok() && !writer_error) writer_error = std::move(s).error();
  }
  close_csv();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json summary = {
      {"run_id", run_id},
      {"rows_delivered", t.delivered_now},
      {"rows_rejected", t.rejected_now},
      {"total_delivered", t.delivered},
      {"total_rejected", t.rejected},
      {"resumed_from", resumed_from},
      {"seconds", std::round(secs * 1000) / 1000},
      {"rows_per_second", secs > 0 ? std::round(static_cast<double>(t.delivered_now) / secs) : 0.0},
      {"interrupted", interrupted},
      {"finished", source_ended.load() && !writer_error && !reader_error},
  };
  if (o.sink_postgres) {
    summary["postgres_inserted"] = t.pg_inserted;
    summary["postgres_duplicates"] = t.pg_duplicates;
  }
  if (kafka) summary["kafka_delivered"] = t.kafka_delivered;
  if (writer_error) summary["error"] = writer_error->message;
  if (reader_error) summary["error"] = reader_error->message;
  if (o.csv_out != "-") {
    if (o.progress_tty) {
      std::cout << fmt::format(
          "{} rows delivered, {} rejected in {:.1f} s ({:.0f} rows/s){}{}\n", t.delivered_now, t.rejected_now,
          secs, summary["rows_per_second"].get<double>(),
          o.sink_postgres ? fmt::format("; postgres: {} new, {} duplicates", t.pg_inserted, t.pg_duplicates)
                          : "",
          kafka ? fmt::format("; kafka: {} delivered", t.kafka_delivered) : "");
    } else {
      std::cout << summary.dump() << std::endl;
    }
  } else {
    log::emit(log::Level::kInfo, kC, "summary", summary);
  }
  if (writer_error) {
    log::error(kC, "{}", writer_error->message);
    return 1;
  }
  if (reader_error) {
    log::error(kC, "{}", reader_error->message);
    return 1;
  }
  return interrupted ? 130 : 0;
}

}  // namespace fp::gen
