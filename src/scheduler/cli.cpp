#include "scheduler/cli.h"

#include "common/cli_support.h"
#include "scheduler/scheduler.h"

namespace fp::sched {
namespace {

struct Args {
  std::string every, cron, docs_every = "1h", listen = "127.0.0.1:18070", dbt, project_dir = "dbt", prefix;
  std::string full_tests_every = "24h", freshness_warn = "2m", freshness_error = "5m";
  bool once = false, no_http = false, no_docs = false, no_prewarm = false;
  int attempts = 3, dbt_timeout_s = 900;
  double retry_base_s = 2, retry_cap_s = 30;
};

void add_schedule_options(CLI::App& cmd, Args& a) {
  auto* every = cmd.add_option("--every", a.every, "Run at this interval: 60s, 5m, 1h");
  auto* cron = cmd.add_option("--cron", a.cron, "Run on this 5-field cron expression, e.g. '*/1 * * * *'");
  auto* once = cmd.add_flag("--once", a.once, "Run the pipeline once and exit (non-zero on failure)");
  every->excludes(cron);
  once->excludes(every)->excludes(cron);
  cmd.add_option("--listen", a.listen, "HOST:PORT for /healthz and /metrics")->capture_default_str();
  cmd.add_flag("--no-http", a.no_http, "Serve no /healthz and /metrics");
}

void add_step_options(CLI::App& cmd, Args& a) {
  cmd.add_option("--prefix", a.prefix, "Bucket key prefix for export, load and verify");
  cmd.add_option("--attempts", a.attempts, "Attempts per step (retries with backoff in between)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  cmd.add_option("--retry-base", a.retry_base_s, "First backoff delay, seconds (doubles, full jitter)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 600.0));
  cmd.add_option("--retry-cap", a.retry_cap_s, "Longest backoff delay, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
}

void add_dbt_options(CLI::App& cmd, Args& a) {
  cmd.add_option("--dbt", a.dbt,
                 "dbt executable (default: env FLEETPIPE_DBT, else the venv of scripts/python-venv.sh)");
  cmd.add_option("--project-dir", a.project_dir, "dbt project (and profiles) directory")
      ->capture_default_str();
  cmd.add_option("--dbt-timeout", a.dbt_timeout_s, "Seconds before dbt's process group is killed")
      ->capture_default_str()
      ->check(CLI::Range(10, 86400));
  cmd.add_flag("--no-docs", a.no_docs, "Never run `dbt docs generate` after the build");
  cmd.add_flag("--no-dbt-prewarm", a.no_prewarm,
               "Start `dbt build` after load, not with the run (held until load has finished)");
  cmd.add_option("--docs-every", a.docs_every,
                 "Regenerate dbt docs after a build at most this often (and whenever the project changed)")
      ->capture_default_str();
  cmd.add_option(
         "--full-tests-every", a.full_tests_every,
         "Run dbt's tests on whole tables (step dbt_full_tests) at most this often; every build tests "
         "the rows it wrote. 0: only when the console asks")
      ->capture_default_str();
  cmd.add_option("--freshness-warn", a.freshness_warn,
                 "Warehouse freshness (marts behind the source) to warn at")
      ->capture_default_str();
  cmd.add_option("--freshness-error", a.freshness_error, "Warehouse freshness to report as an error at")
      ->capture_default_str();
}

// The schedule, the HTTP endpoint, retries and the bucket prefix: everything checked before the
// configuration is loaded.
Result<SchedulerOptions> scheduler_options(const Args& a) {
  SchedulerOptions o;
  o.once = a.once;
  if (!a.once) {
    if (!a.cron.empty())
      o.schedule = Schedule::cron(FP_TRY(CronExpr::parse(a.cron), "--cron"));
    else
      o.schedule = Schedule::every(FP_TRY(parse_interval(a.every.empty() ? "60s" : a.every), "--every"));
  }
  auto listen = cli::parse_listen(a.listen);
  if (!listen) return std::move(listen).error();
  std::tie(o.bind_address, o.port) = *listen;
  o.serve_http = !a.no_http;
  o.retry.max_attempts = a.attempts;
  o.retry.base = std::chrono::milliseconds(static_cast<int64_t>(a.retry_base_s * 1000));
  o.retry.cap = std::chrono::milliseconds(static_cast<int64_t>(a.retry_cap_s * 1000));
  o.pipeline.prefix = a.prefix;
  const auto seconds = [](const std::string& s, const char* what) -> Result<std::chrono::seconds> {
    if (s == "0") return std::chrono::seconds(0);
    return std::chrono::duration_cast<std::chrono::seconds>(FP_TRY(parse_interval(s), what));
  };
  o.full_tests_every = FP_TRY(seconds(a.full_tests_every, "--full-tests-every"), "options");
  o.pipeline.freshness.warn = FP_TRY(seconds(a.freshness_warn, "--freshness-warn"), "options");
  o.pipeline.freshness.error = FP_TRY(seconds(a.freshness_error, "--freshness-error"), "options");
  if (o.pipeline.freshness.error < o.pipeline.freshness.warn)
    return invalid_input("--freshness-error {} is below --freshness-warn {}", a.freshness_error,
                         a.freshness_warn);
  return o;
}

// dbt's executable (which may build its venv), project and docs settings.
Status set_dbt_options(const Args& a, DbtOptions& dbt) {
  dbt.executable = FP_TRY(resolve_dbt(a.dbt), "dbt");
  dbt.project_dir = std::filesystem::absolute(a.project_dir);
  dbt.timeout = std::chrono::seconds(a.dbt_timeout_s);
  dbt.docs = !a.no_docs;
  dbt.prewarm = !a.no_prewarm;
  dbt.docs_every =
      std::chrono::duration_cast<std::chrono::seconds>(FP_TRY(parse_interval(a.docs_every), "--docs-every"));
  if (!std::filesystem::exists(dbt.project_dir / "dbt_project.yml"))
    return invalid_input("--project-dir {}: no dbt_project.yml", dbt.project_dir.string());
  return ok_status();
}

}  // namespace

void add_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("scheduler",
                                 "Run export -> load -> dbt build beside verify on a schedule (or once)");
  auto a = std::make_shared<Args>();
  add_schedule_options(*cmd, *a);
  add_dbt_options(*cmd, *a);
  add_step_options(*cmd, *a);
  cmd->callback([a, &exit_code] {
    auto o = scheduler_options(*a);
    if (!o) {
      exit_code = cli::fail("scheduler", o.error(), cli::kExitUsage);
      return;
    }
    exit_code = cli::with_config("scheduler", [&](Config& cfg) {
      if (auto st = set_dbt_options(*a, o->pipeline.dbt); !st)
        return cli::fail("scheduler", st.error(), cli::kExitUsage);
      Scheduler s(std::move(cfg), std::move(*o));
      return s.run();
    });
  });
}

}  // namespace fp::sched
