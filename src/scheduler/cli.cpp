#include "scheduler/cli.h"

#include "common/config.h"
#include "common/log.h"
#include "scheduler/scheduler.h"

namespace fp::sched {
namespace {

Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return invalid_input("--listen '{}': expected HOST:PORT", s);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return invalid_input("--listen '{}': bad port", s);
  return std::pair{s.substr(0, colon), static_cast<uint16_t>(port)};
}

}  // namespace

void add_commands(CLI::App& app, int& exit_code) {
  auto* cmd =
      app.add_subcommand("scheduler", "Run export -> load -> dbt build -> verify on a schedule (or once)");
  struct Args {
    std::string every, cron, docs_every = "1h", listen = "127.0.0.1:18070", dbt, project_dir = "dbt", prefix;
    bool once = false, no_http = false, no_docs = false;
    int attempts = 3, dbt_timeout_s = 900;
    double retry_base_s = 2, retry_cap_s = 30;
  };
  auto a = std::make_shared<Args>();
  auto* every = cmd->add_option("--every", a->every, "Run at this interval: 60s, 5m, 1h");
  auto* cron = cmd->add_option("--cron", a->cron, "Run on this 5-field cron expression, e.g. '*/1 * * * *'");
  auto* once = cmd->add_flag("--once", a->once, "Run the pipeline once and exit (non-zero on failure)");
  every->excludes(cron);
  once->excludes(every)->excludes(cron);
  cmd->add_option("--listen", a->listen, "HOST:PORT for /healthz and /metrics")->capture_default_str();
  cmd->add_flag("--no-http", a->no_http, "Serve no /healthz and /metrics");
  cmd->add_option("--dbt", a->dbt,
                  "dbt executable (default: env FLEETPIPE_DBT, else the venv of scripts/python-venv.sh)");
  cmd->add_option("--project-dir", a->project_dir, "dbt project (and profiles) directory")
      ->capture_default_str();
  cmd->add_option("--dbt-timeout", a->dbt_timeout_s, "Seconds before dbt's process group is killed")
      ->capture_default_str()
      ->check(CLI::Range(10, 86400));
  cmd->add_flag("--no-docs", a->no_docs, "Never run `dbt docs generate` after the build");
  cmd->add_option("--docs-every", a->docs_every,
                  "Regenerate dbt docs after a build at most this often (and whenever the project changed)")
      ->capture_default_str();
  cmd->add_option("--prefix", a->prefix, "Bucket key prefix for export, load and verify");
  cmd->add_option("--attempts", a->attempts, "Attempts per step (retries with backoff in between)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  cmd->add_option("--retry-base", a->retry_base_s, "First backoff delay, seconds (doubles, full jitter)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 600.0));
  cmd->add_option("--retry-cap", a->retry_cap_s, "Longest backoff delay, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  cmd->callback([a, &exit_code] {
    SchedulerOptions o;
    o.once = a->once;
    if (!a->once) {
      if (!a->cron.empty()) {
        auto c = CronExpr::parse(a->cron);
        if (!c) {
          log::error("scheduler", "--cron: {}", c.error().message);
          exit_code = 2;
          return;
        }
        o.schedule = Schedule::cron(std::move(*c));
      } else {
        auto d = parse_interval(a->every.empty() ? "60s" : a->every);
        if (!d) {
          log::error("scheduler", "--every: {}", d.error().message);
          exit_code = 2;
          return;
        }
        o.schedule = Schedule::every(*d);
      }
    }
    auto listen = parse_listen(a->listen);
    if (!listen) {
      log::error("scheduler", "{}", listen.error().message);
      exit_code = 2;
      return;
    }
    o.bind_address = listen->first;
    o.port = listen->second;
    o.serve_http = !a->no_http;
    o.retry.max_attempts = a->attempts;
    o.retry.base = std::chrono::milliseconds(static_cast<int64_t>(a->retry_base_s * 1000));
    o.retry.cap = std::chrono::milliseconds(static_cast<int64_t>(a->retry_cap_s * 1000));
    o.pipeline.prefix = a->prefix;
    auto cfg = Config::load();
    if (!cfg) {
      log::error("scheduler", "configuration: {}", cfg.error().message);
      exit_code = 2;
      return;
    }
    auto dbt = resolve_dbt(a->dbt);
    if (!dbt) {
      log::error("scheduler", "dbt: {}", dbt.error().message);
      exit_code = 2;
      return;
    }
    o.pipeline.dbt.executable = *dbt;
    o.pipeline.dbt.project_dir = std::filesystem::absolute(a->project_dir);
    o.pipeline.dbt.timeout = std::chrono::seconds(a->dbt_timeout_s);
    o.pipeline.dbt.docs = !a->no_docs;
    auto docs_every = parse_interval(a->docs_every);
    if (!docs_every) {
      log::error("scheduler", "--docs-every: {}", docs_every.error().message);
      exit_code = 2;
      return;
    }
    o.pipeline.dbt.docs_every = std::chrono::duration_cast<std::chrono::seconds>(*docs_every);
    if (!std::filesystem::exists(o.pipeline.dbt.project_dir / "dbt_project.yml")) {
      log::error("scheduler", "--project-dir {}: no dbt_project.yml", o.pipeline.dbt.project_dir.string());
      exit_code = 2;
      return;
    }
    Scheduler s(std::move(*cfg), std::move(o));
    exit_code = s.run();
  });
}

}  // namespace fp::sched
