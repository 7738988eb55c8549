// `fleetpipe generate`: a reader thread pulls rows from the source, paces them, validates and formats them
// into batches; the calling thread writes each batch to the sinks and counts it delivered only once every
// sink confirmed it (Kafka delivery reports, then the PostgreSQL commit that also moves the checkpoint).
// The reader is generator/batch_reader.h, the writer (and that order) generator/batch_writer.h; runner.cpp
// opens the source and the sinks, resumes from the checkpoint, runs the two and prints the summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/config.h"
#include "generator/pacing.h"
#include "generator/simulator.h"

namespace fp::gen {

struct GenerateOptions {
  std::string csv_path;  // the source when not simulating
  bool simulate = false;
  SimOptions sim;
  uint64_t count = 0;  // simulator rows (0: endless)
  bool sink_postgres = false;
  bool sink_kafka = false;
  std::string csv_out;         // also a sink when set ("-" for stdout)
  std::string attributes_out;  // directory for drivers.csv and vehicles.csv of the simulated fleet
  std::string topic = "trips";
  Pacing pacing;
  size_t batch_rows = 20000;
  std::chrono::milliseconds max_latency{100};  // real time: longest a row waits in a batch
  bool resume = false;
  std::string run_id;  // default: derived from the source
  bool strict = false;
  int kafka_timeout_ms = 60000;
  bool progress_tty = false;
};

// Exit codes: 0 done, 1 a sink or the input failed, 2 bad options/config, 3 --strict found bad rows,
// 130 interrupted (after committing what was in hand).
int run_generate(const GenerateOptions& options, const Config& config);

}  // namespace fp::gen
