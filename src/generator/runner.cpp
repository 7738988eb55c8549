#include "generator/runner.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <variant>

#include "common/log.h"
#include "common/progress.h"
#include "common/shutdown.h"
#include "generator/batch_reader.h"
#include "generator/batch_writer.h"
#include "generator/source.h"

namespace fp::gen {

namespace {

constexpr std::string_view kC = kGenerateLog;

// --strict: every line is checked before anything is written.
int strict_precheck(const std::string& path) {
  auto src = open_csv(path);
  if (!src.ok()) {
    log::error(kC, "{}", src.error().message);
    return 1;
  }
  trip::Measurement m;
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

// --attributes-out: the simulated fleet's vehicles and drivers, the attribute files beside the trips.
Status write_fleet_attributes(const GenerateOptions& o) {
  Simulator sim(o.sim);
  std::vector<Driver> drivers;
  for (const auto& v : sim.vehicles()) drivers.push_back(driver_for(v.driver_id));
  std::filesystem::path dir(o.attributes_out);
  for (auto st : {write_file(dir / "vehicles.csv", vehicles_csv(sim.vehicles())),
                  write_file(dir / "drivers.csv", drivers_csv(drivers))})
    if (!st.ok()) return st;
  return ok_status();
}

// The CSV file, or the simulator (and its fleet's attribute files when asked for).
Result<std::unique_ptr<Source>> open_source(const GenerateOptions& o) {
  if (!o.simulate) return open_csv(o.csv_path);
  auto source = make_simulator_source(o.sim, o.count);
  if (!o.attributes_out.empty()) {
    if (auto st = write_fleet_attributes(o); !st.ok()) return std::move(st).error();
  }
  return source;
}

// Connects the sinks the options name (and the checkpoint's database with them); the CSV sink starts with
// its header.
Result<Sinks> open_sinks(const GenerateOptions& o, const Config& config) {
  Sinks s;
  if (o.sink_postgres || o.sink_kafka) {
    auto p = PgSink::connect(config.webapp_as(DbService::kGenerator));
    if (!p.ok()) return std::move(p).error();
    s.pg = std::move(*p);
  }
  if (o.sink_kafka) {
    auto k = KafkaSink::create(KafkaSinkOptions{config.kafka_bootstrap, o.topic, o.kafka_timeout_ms});
    if (!k.ok()) return std::move(k).error();
    s.kafka = std::move(*k);
  }
  if (!o.csv_out.empty()) {
    s.csv_out = o.csv_out == "-" ? stdout : std::fopen(o.csv_out.c_str(), "wb");
    if (!s.csv_out) return make_error("open {}: {}", o.csv_out, std::strerror(errno));
    std::fprintf(s.csv_out, "%.*s\n", static_cast<int>(trip::kCsvHeader.size()), trip::kCsvHeader.data());
  }
  return s;
}

// Where this run starts in the source, and the counts it continues.
struct Start {
  uint64_t resumed_from = 0;
  Totals totals;
};

// --resume: moves the source to the run's checkpoint. An exit code instead when the run stops here: the
// checkpoint could not be read or reached (1), or the run finished before (0, nothing to do).
std::variant<Start, int> resume_from_checkpoint(const GenerateOptions& o, PgSink* pg, Source& source,
                                                const std::string& run_id) {
  Start start;
  if (!o.resume) return start;
  if (!pg) {
    log::warn(kC, "--resume needs the postgres or kafka sink (the checkpoint is in the webapp database)");
    return start;
  }
  auto cp = pg->load_checkpoint(run_id);
  if (!cp.ok()) {
    log::error(kC, "{}", cp.error().message);
    return 1;
  }
  if (!*cp) {
    log::info(kC, "no checkpoint for run {}; starting from the beginning", run_id);
    return start;
  }
  const Checkpoint& c = **cp;
  if (c.finished) {
    log::info(kC, "run {} already finished ({} rows delivered); nothing to do", run_id, c.delivered);
    std::cout << nlohmann::json{{"run_id", run_id},
                                {"rows_delivered", 0},
                                {"rows_rejected", 0},
                                {"total_delivered", c.delivered},
                                {"already_finished", true}}
                     .dump()
              << std::endl;
    return 0;
  }
  if (c.source != source.describe())
    log::warn(kC, "checkpoint of run {} was written for {}, now reading {}", run_id, c.source,
              source.describe());
  if (auto st = source.skip_to(c.position); !st.ok()) {
    log::error(kC, "resume: {}", st.error().message);
    return 1;
  }
  start.resumed_from = c.position;
  start.totals.delivered = c.delivered;
  start.totals.rejected = c.rejected;
  log::info(kC, "resuming run {} at position {} ({} rows delivered before)", run_id, start.resumed_from,
            start.totals.delivered);
  return start;
}

// Writes the batches the reader hands off until it closes the queue; on a failed write the queue is
// stopped (the reader then stops too) and the error returned.
std::optional<Error> write_batches(BatchQueue& queue, BatchWriter& writer, Progress& progress,
                                   const Source& source) {
  while (auto b = queue.pop()) {
    if (auto s = writer.write(*b, false); !s.ok()) {
      queue.stop();
      return std::move(s).error();
    }
    progress.update(writer.totals().delivered_now, writer.totals().rejected_now, source.done_fraction());
  }
  return std::nullopt;
}

// After the last batch: a source read to its end marks the checkpoint finished (with an empty batch), then
// Kafka's producer closes (the last delivery reports) and the CSV file closes. The first error is kept.
void finish_sinks(Sinks& sinks, BatchWriter& writer, const BatchReader& reader, const Source& source,
                  std::optional<Error>& writer_error) {
  if (!writer_error && !reader.error() && reader.source_ended() && sinks.pg) {
    Batch empty;
    empty.end_position = source.position();
    if (auto s = writer.write(empty, true); !s.ok()) writer_error = std::move(s).error();
  }
  if (sinks.kafka) {
    if (auto s = sinks.kafka->close(); !s.ok() && !writer_error) writer_error = std::move(s).error();
  }
  sinks.close_csv();
}

// How the run ended: what the summary reports and the exit code says.
struct Outcome {
  std::string run_id;
  uint64_t resumed_from = 0;
  Totals t;
  double secs = 0;
  bool interrupted = false;
  bool source_ended = false;
  bool kafka = false;
  std::optional<Error> writer_error, reader_error;
};

// The summary: one JSON line on stdout, a sentence on a terminal, or a log line when stdout carries the
// CSV rows.
void print_summary(const GenerateOptions& o, const Outcome& r) {
  const Totals& t = r.t;
  nlohmann::json summary = {
      {"run_id", r.run_id},
      {"rows_delivered", t.delivered_now},
      {"rows_rejected", t.rejected_now},
      {"total_delivered", t.delivered},
      {"total_rejected", t.rejected},
      {"resumed_from", r.resumed_from},
      {"seconds", std::round(r.secs * 1000) / 1000},
      {"rows_per_second", r.secs > 0 ? std::round(static_cast<double>(t.delivered_now) / r.secs) : 0.0},
      {"interrupted", r.interrupted},
      {"finished", r.source_ended && !r.writer_error && !r.reader_error},
  };
  if (o.sink_postgres) {
    summary["postgres_inserted"] = t.pg_inserted;
    summary["postgres_duplicates"] = t.pg_duplicates;
  }
  if (r.kafka) summary["kafka_delivered"] = t.kafka_delivered;
  if (r.writer_error) summary["error"] = r.writer_error->message;
  if (r.reader_error) summary["error"] = r.reader_error->message;
  if (o.csv_out == "-") {
    log::emit(log::Level::kInfo, kC, "summary", summary);
  } else if (o.progress_tty) {
    std::cout << fmt::format(
        "{} rows delivered, {} rejected in {:.1f} s ({:.0f} rows/s){}{}\n", t.delivered_now, t.rejected_now,
        r.secs, summary["rows_per_second"].get<double>(),
        o.sink_postgres ? fmt::format("; postgres: {} new, {} duplicates", t.pg_inserted, t.pg_duplicates)
                        : "",
        r.kafka ? fmt::format("; kafka: {} delivered", t.kafka_delivered) : "");
  } else {
    std::cout << summary.dump() << std::endl;
  }
}

int exit_code(const Outcome& r) {
  if (r.writer_error) {
    log::error(kC, "{}", r.writer_error->message);
    return 1;
  }
  if (r.reader_error) {
    log::error(kC, "{}", r.reader_error->message);
    return 1;
  }
  return r.interrupted ? 130 : 0;
}

}  // namespace

int run_generate(const GenerateOptions& o, const Config& config) {
  if (!o.simulate && o.strict) {
    if (int rc = strict_precheck(o.csv_path); rc != 0) return rc;
  }
  auto source = open_source(o);
  if (!source.ok()) {
    log::error(kC, "{}", source.error().message);
    return 1;
  }
  const std::string run_id = o.run_id.empty() ? (*source)->describe() : o.run_id;
  auto sinks = open_sinks(o, config);
  if (!sinks.ok()) {
    log::error(kC, "{}", sinks.error().message);
    return 1;
  }
  auto start = resume_from_checkpoint(o, sinks->pg.get(), **source, run_id);
  if (const int* rc = std::get_if<int>(&start)) return *rc;
  const Start& from = std::get<Start>(start);

  BatchQueue queue(2);
  BatchReader reader(o, {.copy = o.sink_postgres, .json = o.sink_kafka, .csv = sinks->csv_out != nullptr},
                     **source, queue);
  std::thread reader_thread([&] { reader.run(); });

  Progress progress(
      "generate", "generate",
      {.unit = "rows", .total = 0, .tty = o.progress_tty, .second_count = "rejected", .final_report = false});
  const auto started = std::chrono::steady_clock::now();
  BatchWriter writer(o, *sinks, **source, run_id, from.totals);
  std::optional<Error> writer_error = write_batches(queue, writer, progress, **source);
  // Unblock the reader if the writer stopped early, then wait for it.
  queue.stop();
  reader_thread.join();
  progress.finish();

  const bool interrupted = shutdown::requested();
  finish_sinks(*sinks, writer, reader, **source, writer_error);
  const Outcome outcome{
      .run_id = run_id,
      .resumed_from = from.resumed_from,
      .t = writer.totals(),
      .secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
      .interrupted = interrupted,
      .source_ended = reader.source_ended(),
      .kafka = sinks->kafka != nullptr,
      .writer_error = std::move(writer_error),
      .reader_error = reader.error(),
  };
  print_summary(o, outcome);
  return exit_code(outcome);
}

}  // namespace fp::gen
