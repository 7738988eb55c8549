#include "stack/cli.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "common/cli_support.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "stack/disk_report.h"
#include "stack/lifecycle.h"
#include "stack/provision.h"
#include "stack/supervisor.h"

namespace fp::stack {
namespace {

int fail(const Error& e) {
  return cli::fail("stack", e);
}

std::string human_bytes(long long b) {
  if (b <= 0) return "-";
  return fmt::format("{:.0f} MiB", static_cast<double>(b) / (1024.0 * 1024.0));
}

void print_status(const std::vector<PartStatus>& parts) {
  fmt::print("{:<20} {:<10} {:>8} {:>9} {:>8}  {}\n", "PART", "STATE", "PID", "RSS", "RESTARTS", "ADDRESS");
  for (const auto& p : parts) {
    fmt::print("{:<20} {:<10} {:>8} {:>9} {:>8}  {}\n", p.name, p.state, p.pid ? std::to_string(p.pid) : "-",
               human_bytes(p.rss_bytes), p.restarts, p.address);
    if (!p.detail.empty()) fmt::print("{:<20} {}\n", "", p.detail);
  }
}

void print_urls(const Context& ctx) {
  const auto& c = ctx.cfg;
  fmt::print("\nfleetpipe is up. Where things are:\n");
  fmt::print("  PostgreSQL webapp     postgresql://{}@{}:{}/{}\n", c.webapp.user, c.webapp.host,
             c.webapp.port, c.webapp.dbname);
  fmt::print("  PostgreSQL warehouse  postgresql://{}@{}:{}/{}\n", c.warehouse.user, c.warehouse.host,
             c.warehouse.port, c.warehouse.dbname);
  fmt::print("  Kafka                 {}\n", c.kafka_bootstrap);
  fmt::print("  Kafka Connect REST    {}/connectors\n", c.connect_url);
  fmt::print("  S3 (bucket {:<8})   {}\n", c.s3.bucket, c.s3.endpoint);
  fmt::print("  Web app               http://127.0.0.1:5001/  (with --with-services / demo)\n");
  fmt::print("  Live dashboard        http://127.0.0.1:18050/ (with --with-services / demo)\n");
  fmt::print("  Scheduler /metrics    http://127.0.0.1:18070/metrics (with --with-services / demo)\n");
  fmt::print("  dbt docs              http://127.0.0.1:8080/dbt/ (served by the console from {})\n",
             (ctx.state() / "dbt" / "target").string());
  fmt::print(
      "  pgAdmin               http://127.0.0.1:{}/  (with --with-pgadmin / demo; login {}, password\n"
      "                        PGADMIN_DEFAULT_PASSWORD in credentials.env)\n",
      c.pgadmin.port, c.pgadmin.email);
  fmt::print(
      "  Console               http://127.0.0.1:8080/  (with --with-services / demo; actions need\n"
      "                        FLEETPIPE_CONSOLE_TOKEN from {})\n",
      (ctx.state() / "credentials.env").string());
  fmt::print("  Credentials           {} (fleetpipe config --reveal-secrets)\n",
             (ctx.state() / "credentials.env").string());
  fmt::print("  Logs                  {}\n\n", (ctx.state() / "log").string());
}

// A flag whose value outlives add_commands: the callbacks read it after parsing.
std::shared_ptr<bool> add_flag(CLI::App* cmd, const std::string& name, const std::string& description) {
  auto value = std::make_shared<bool>(false);
  cmd->add_flag(name, *value, description);
  return value;
}

// When cmd is chosen: loads the context and runs body with it; body's result is the exit code.
void on_context(CLI::App* cmd, int& exit_code, std::function<int(Context&)> body) {
  cmd->callback([&exit_code, body = std::move(body)] {
    auto ctx = Context::load();
    exit_code = ctx ? body(*ctx) : fail(ctx.error());
  });
}

// A subcommand that does one thing to the context: exit 0 when it succeeds, 1 (logged) when it fails.
void add_action(CLI::App& parent, const std::string& name, const std::string& description, int& exit_code,
                std::function<Status(Context&)> action) {
  on_context(parent.add_subcommand(name, description), exit_code,
             [action = std::move(action)](Context& ctx) { return cli::exit_code("stack", action(ctx)); });
}

void add_up_command(CLI::App& app, int& exit_code) {
  auto* up_cmd = app.add_subcommand("up", "Bring the native stack up (idempotent) and provision it");
  auto no_provision =
      add_flag(up_cmd, "--no-provision", "Start the engines only: no migrations, topics, connectors");
  auto with_services =
      add_flag(up_cmd, "--with-services", "Also start fleetpipe's services (web app, live generator)");
  auto with_pgadmin =
      add_flag(up_cmd, "--with-pgadmin",
               "Also start pgAdmin 4 (127.0.0.1:PGADMIN_PORT, default 5050) with both databases registered");
  on_context(up_cmd, exit_code, [no_provision, with_services, with_pgadmin](Context& ctx) {
    const auto t0 = std::chrono::steady_clock::now();
    auto st = up(ctx, UpOptions{.provision = !*no_provision,
                                .with_services = *with_services,
                                .with_pgadmin = *with_pgadmin});
    if (!st) return fail(st.error());
    log::info(
        "stack", "stack up in {} ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    if (isatty(STDOUT_FILENO)) print_urls(ctx);
    return 0;
  });
}

void add_demo_command(CLI::App& app, int& exit_code) {
  auto* demo =
      app.add_subcommand("demo", "Bring the stack up, run the live pipeline until Ctrl-C, then stop it all");
  auto keep = add_flag(demo, "--keep-running", "Leave the stack running on exit");
  on_context(demo, exit_code, [keep](Context& ctx) {
    auto st = up(ctx, UpOptions{.provision = true, .with_services = true, .with_pgadmin = true});
    if (!st) return fail(st.error());
    print_urls(ctx);
    print_status(status(ctx));
    fmt::print("\nRunning; press Ctrl-C to stop.\n");
    std::fflush(stdout);
    while (!shutdown::wait_for(std::chrono::seconds(3600))) {
    }
    if (*keep) return 0;
    fmt::print("\nStopping the stack...\n");
    std::fflush(stdout);
    return cli::exit_code("stack", down(ctx));
  });
}

void add_supervise_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "supervise", "Restart the parts this state directory started when they die (`up` starts it)");
  auto listen = std::make_shared<std::string>(fmt::format("127.0.0.1:{}", kSupervisorPort));
  cmd->add_option("--listen", *listen, "HOST:PORT for /healthz and /metrics")->capture_default_str();
  on_context(cmd, exit_code, [listen](Context& ctx) {
    auto where = cli::parse_listen(*listen);
    if (!where) return cli::fail("supervisor", where.error(), cli::kExitUsage);
    SuperviseOptions o;
    std::tie(o.bind_address, o.port) = *where;
    return supervise(ctx, o);
  });
}

void add_status_command(CLI::App& app, int& exit_code) {
  auto* status_cmd =
      app.add_subcommand("status", "Health of each part of the stack (exit 1 unless all healthy)");
  auto as_json =
      add_flag(status_cmd, "--json", "Machine-readable output: the parts, each store's with its disk usage");
  on_context(status_cmd, exit_code, [as_json](Context& ctx) {
    const auto parts = status(ctx);
    // Each store's size, every measurement bounded by its own time limit (stack/disk_report.h).
    const auto disk = measure_disk(ctx);
    if (*as_json) {
      auto out = to_json(parts);
      attach_disk(out, disk);
      std::cout << out.dump(2) << "\n";
    } else {
      print_status(parts);
      fmt::print("\n{}", disk_table(disk));
    }
    return all_healthy(parts) ? 0 : 1;
  });
}

// `<part> apply`: what `up` provisions, one part at a time; also for stacks fleetpipe did not start
// (docker-compose.yml, managed services), as one-shot commands against the configured servers.
void add_apply_commands(CLI::App& app, int& exit_code) {
  auto* topics = app.add_subcommand("topics", "Kafka topics declared in config/topics.json");
  topics->require_subcommand(1);
  add_action(*topics, "apply", "Create missing topics; report drift", exit_code, apply_topics);

  auto* connectors =
      app.add_subcommand("connectors", "Kafka Connect connectors declared in config/connectors/");
  connectors->require_subcommand(1);
  add_action(*connectors, "apply", "Create or update connectors and wait until they run", exit_code,
             apply_connectors);

  auto* db = app.add_subcommand("db", "The webapp and warehouse databases named by the configuration");
  db->require_subcommand(1);
  add_action(*db, "apply",
             "Create the databases if missing, apply sql/ migrations, the services' roles and grants",
             exit_code, [](Context& ctx) {
               auto st = provision_database(ctx, "webapp", ctx.cfg.webapp);
               return st ? provision_database(ctx, "warehouse", ctx.cfg.warehouse) : st;
             });
  auto* bucket = app.add_subcommand("bucket", "The landing bucket (S3_BUCKET_NAME)");
  bucket->require_subcommand(1);
  add_action(*bucket, "apply", "Create the bucket if missing", exit_code, ensure_bucket);
}

}  // namespace

void add_commands(CLI::App& app, int& exit_code) {
  add_up_command(app, exit_code);
  add_action(app, "down", "Stop every part this state directory started", exit_code, down);
  add_status_command(app, exit_code);
  add_supervise_command(app, exit_code);
  add_apply_commands(app, exit_code);
  add_demo_command(app, exit_code);
}

}  // namespace fp::stack
