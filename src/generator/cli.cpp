#include "generator/cli.h"

#include <unistd.h>

#include <chrono>
#include <memory>
#include <sstream>

#include "common/cli_support.h"
#include "common/log.h"
#include "common/trip/text.h"
#include "generator/runner.h"

namespace fp::gen {

namespace {

struct Args {
  GenerateOptions o;
  std::string csv = "data/trips.csv";
  std::string sinks;
  std::string start_time = "2024-04-15 08:00:00";
  double interval = -1, rate = -1, speedup = -1;
  bool bulk = false;
  uint64_t seed = 1;
};

int run(Args& a) {
  GenerateOptions& o = a.o;
  o.csv_path = a.csv;
  o.sim.seed = a.seed;
  if (a.start_time == "now") {
    o.sim.start_time =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
  } else {
    auto t = trip::parse_time(a.start_time);
    if (!t.ok()) {
      log::error("generate", "--start-time: {}", t.error().message);
      return 2;
    }
    o.sim.start_time = *t;
  }
  std::string sinks = a.sinks.empty() ? (o.csv_out.empty() ? "postgres,kafka" : "") : a.sinks;
  std::stringstream ss(sinks);
  for (std::string s; std::getline(ss, s, ',');) {
    if (s == "postgres" || s == "pg") {
      o.sink_postgres = true;
    } else if (s == "kafka") {
      o.sink_kafka = true;
    } else if (!s.empty()) {
      log::error("generate", "--sink: unknown sink '{}' (postgres, kafka)", s);
      return 2;
    }
  }
  if (!o.sink_postgres && !o.sink_kafka && o.csv_out.empty()) {
    log::error("generate", "no sink: give --sink postgres,kafka and/or --csv-out FILE");
    return 2;
  }
  int modes = (a.interval >= 0) + (a.rate >= 0) + (a.speedup >= 0) + a.bulk;
  if (modes > 1) {
    log::error("generate", "choose one of --interval, --rate, --speedup, --bulk");
    return 2;
  }
  if (a.bulk) {
    o.pacing.mode = Pacing::Mode::kBulk;
  } else if (a.rate >= 0) {
    if (a.rate <= 0) return log::error("generate", "--rate must be positive"), 2;
    o.pacing.mode = Pacing::Mode::kRate;
    o.pacing.rate = a.rate;
  } else if (a.speedup >= 0) {
    if (a.speedup <= 0) return log::error("generate", "--speedup must be positive"), 2;
    o.pacing.mode = Pacing::Mode::kSpeedup;
    o.pacing.speedup = a.speedup;
  } else {
    o.pacing.mode = Pacing::Mode::kInterval;
    o.pacing.interval_s = a.interval >= 0 ? a.interval : 1.0;
  }
  o.progress_tty = isatty(STDERR_FILENO) && o.csv_out != "-";
  return cli::with_config("generate", [&](const Config& cfg) { return run_generate(o, cfg); });
}

}  // namespace

void add_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<Args>();
  auto* g =
      app.add_subcommand("generate",
                         "Stream trip measurements (a trips CSV or the simulator) into the webapp database "
                         "and/or the Kafka topic, paced in real time or in bulk");
  g->add_option("--csv", args->csv, "Trips CSV in the seed's format ('-' for stdin)")->capture_default_str();
  g->add_flag("--simulate", args->o.simulate, "Use the fleet simulator instead of a CSV");
  g->add_option("--vehicles", args->o.sim.vehicles, "Simulator: number of vehicles")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  g->add_option("--first-vehicle-id", args->o.sim.first_vehicle_id, "Simulator: id of the first vehicle")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000000));
  g->add_option("--seed", args->seed, "Simulator: random seed (same seed, same rows)")->capture_default_str();
  g->add_option("--count", args->o.count, "Simulator: stop after this many rows (0: never)")
      ->capture_default_str();
  g->add_option("--start-time", args->start_time, "Simulator: time of the first measurement, or 'now'")
      ->capture_default_str();
  g->add_option("--step", args->o.sim.step_seconds, "Simulator: seconds between a vehicle's measurements")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  g->add_option("--sink", args->sinks,
                "postgres, kafka or postgres,kafka (default both; none with --csv-out)");
  g->add_option("--topic", args->o.topic, "Kafka topic")->capture_default_str();
  g->add_option("--csv-out", args->o.csv_out, "Also write the rows as CSV to this file ('-' for stdout)");
  g->add_option("--attributes-out", args->o.attributes_out,
                "Simulator: write drivers.csv and vehicles.csv of the fleet into this directory");
  g->add_option("--interval", args->interval, "Real time: seconds between measurements (default 1)");
  g->add_option("--rate", args->rate, "Real time: measurements per second");
  g->add_option("--speedup", args->speedup, "Replay at this multiple of the measurement timestamps");
  g->add_flag("--bulk", args->bulk, "As fast as the sinks take it");
  g->add_option("--batch-size", args->o.batch_rows, "Rows per transaction / delivery check")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  g->add_flag("--resume", args->o.resume, "Carry on from the run's checkpoint in the webapp database");
  g->add_option("--run-id", args->o.run_id, "Checkpoint name (default: derived from the source)");
  g->add_flag("--strict", args->o.strict, "Write nothing and exit 3 if any CSV row is invalid");
  g->add_option("--kafka-timeout-ms", args->o.kafka_timeout_ms, "How long a message may take to be delivered")
      ->capture_default_str()
      ->check(CLI::Range(1000, 3600000));
  g->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace fp::gen
