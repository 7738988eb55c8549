// fleetpipe: one binary, one subcommand per service of the pipeline.
#include <CLI/CLI.hpp>
#include <iostream>

#include "common/config.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "compact/cli.h"
#include "console/cli.h"
#include "export/cli.h"
#include "generator/cli.h"
#include "load/cli.h"
#include "realtime/cli.h"
#include "retain/cli.h"
#include "scheduler/cli.h"
#include "stack/cli.h"
#include "stack/kafka_budget.h"
#include "webapp/cli.h"

namespace {

int run_config(bool reveal) {
  auto cfg = fp::Config::load();
  if (!cfg) {
    fp::log::error("config", "{}", cfg.error().message);
    return 2;
  }
  auto out = cfg->to_json(reveal);
  // The Kafka disk budget as `up` would apply it: the setting (or its default) split between the topics.
  auto ctx = fp::stack::Context::load();
  auto budget = ctx ? fp::stack::kafka_budget(*ctx) : fp::Result<fp::stack::KafkaBudget>(ctx.error());
  out["kafka_disk"] =
      budget ? fp::stack::to_json(*budget) : nlohmann::json{{"error", budget.error().message}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "fleetpipe: vehicle trip telemetry pipeline (operational DB, CDC, streaming, S3 landing zone, "
      "warehouse, dashboards)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(FLEETPIPE_VERSION));
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "debug, info, warn or error (env FLEETPIPE_LOG_LEVEL)")
      ->capture_default_str();

  int exit_code = 0;

  auto* config = app.add_subcommand("config", "Print the effective configuration (secrets masked)");
  bool reveal = false;
  config->add_flag("--reveal-secrets", reveal, "Print secrets in clear");
  config->callback([&] { exit_code = run_config(reveal); });

  fp::stack::add_commands(app, exit_code);
  fp::gen::add_commands(app, exit_code);
  fp::webapp::add_commands(app, exit_code);
  fp::batch::add_export_commands(app, exit_code);
  fp::batch::add_load_commands(app, exit_code);
  fp::compact::add_compact_commands(app, exit_code);
  fp::retain::add_retain_commands(app, exit_code);
  fp::realtime::add_commands(app, exit_code);
  fp::sched::add_commands(app, exit_code);
  fp::console::add_commands(app, exit_code);

  app.parse_complete_callback([&] { fp::log::init(fp::log::parse_level(log_level)); });
  fp::shutdown::install_signal_handlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
