#include "webapp/cli.h"

#include <cstdlib>

#include "common/cli_support.h"
#include "webapp/app.h"

namespace fp::webapp {

void add_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("webapp", "Serve the Latest Trips page, the new-trip form and the JSON API");
  auto opts = std::make_shared<WebappOptions>();
  cmd->add_option("--bind", opts->bind_address, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "Port to listen on")->capture_default_str();
  cmd->add_option("--threads", opts->worker_threads, "Handler threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--db-connections", opts->db_connections, "Database connections for reads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--static-dir", opts->static_dir, "Directory of the CSS (default web/webapp)");
  cmd->add_option("--schema", opts->schema,
                  "Database schema to read and write (search_path); benchmarks use a scratch copy")
      ->capture_default_str();
  auto* ttl = cmd->add_option("--cache-ms", "How long the latest rows may be reused (0: never)")
                  ->default_val(opts->cache_ttl.count())
                  ->check(CLI::Range(0, 60000));
  cmd->callback([opts, ttl, &exit_code] {
    opts->cache_ttl = std::chrono::milliseconds(ttl->as<int>());
    // The CSRF secret is configuration, never a flag (flags show in `ps`).
    if (const char* s = std::getenv("FLEETPIPE_WEBAPP_SECRET")) opts->csrf_secret = s;
    exit_code = cli::serve<WebApp>("webapp", *opts);
  });
}

}  // namespace fp::webapp
