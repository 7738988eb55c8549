#include "console/cli.h"

#include <cstdlib>

#include "common/cli_support.h"
#include "common/log.h"
#include "common/net.h"
#include "console/app.h"

namespace fp::console {

void add_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "console", "Serve the operations console: health, topics, consumer lag, CDC, batch lane, dbt docs");
  auto opts = std::make_shared<ConsoleOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  cmd->add_option("--listen", *listen, "Address and port to listen on (host:port)")->capture_default_str();
  cmd->add_option("--static-dir", opts->static_dir, "Directory of the CSS and script (default web/console)");
  cmd->add_option("--dbt-target", opts->dbt_target, "dbt's target directory (default <state>/dbt/target)");
  cmd->add_option("--export-prefix", opts->export_prefix, "The exporter's key prefix in the bucket");
  auto* refresh = cmd->add_option("--refresh-ms", "How often the live overview is recomputed")
                      ->default_val(opts->refresh.count())
                      ->check(CLI::Range(500, 600000));
  auto urls = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& s : opts->services) {
    (*urls)[s.name] = s.url;
    cmd->add_option("--" + s.name + "-url", (*urls)[s.name], s.title + " address")->capture_default_str();
  }
  cmd->callback([opts, listen, refresh, urls, &exit_code] {
    auto [host, port] = host_port(*listen, 0);
    if (host.empty() || port < 1 || port > 65535) {
      log::error("console", "--listen {:?}: expected host:port", *listen);
      exit_code = cli::kExitUsage;
      return;
    }
    opts->bind_address = host;
    opts->port = static_cast<uint16_t>(port);
    opts->refresh = std::chrono::milliseconds(refresh->as<int>());
    for (auto& s : opts->services) s.url = urls->at(s.name);
    // The CSRF secret is configuration, never a flag (flags show in `ps`).
    if (const char* s = std::getenv("FLEETPIPE_CONSOLE_SECRET")) opts->csrf_secret = s;
    exit_code = cli::serve<Console>("console", *opts);
  });
}

}  // namespace fp::console
