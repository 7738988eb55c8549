#include "retain/cli.h"

#include "common/cli_support.h"
#include "retain/hot_window.h"

namespace fp::retain {

void add_retain_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "retain",
      "Keep the hot window: drop partitions of trips older than it once the warehouse holds their rows, then "
      "raw day partitions past FLEETPIPE_WAREHOUSE_RAW_RETENTION once the marts hold them");
  auto opts = std::make_shared<RetainOptions>();
  cmd->add_option("--prefix", opts->prefix, "Key prefix inside the bucket (the warehouse tables it loads)");
  cmd->add_flag("--dry-run", opts->dry_run, "Compare, but drop nothing");
  cmd->add_option("--max-partitions", opts->max_partitions, "Partitions compared in one run at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->callback([opts, &exit_code] {
    exit_code = cli::with_config("retain", [&](const Config& cfg) {
      auto r = run_retain(cfg, *opts);
      if (!r) return cli::fail("retain", r.error());
      for (const auto& p : r->partitions)
        fmt::print("{:<8} {} [{}, {}): {} source rows, {} in the warehouse{}\n",
                   p.dropped ? "DROPPED" : "KEPT", p.partition, p.range_start, p.range_end, p.source_rows,
                   p.warehouse_rows, p.reason.empty() ? "" : "; " + p.reason);
      for (const auto& p : r->raw_partitions)
        fmt::print("{:<8} raw.{} [{}, {}): {} live rows{}\n", p.dropped ? "DROPPED" : "KEPT", p.partition,
                   p.range_start, p.range_end, p.rows, p.reason.empty() ? "" : "; " + p.reason);
      fmt::print(
          "retain: {} partition(s) made ahead, {} dropped ({} rows), {} waiting to be compared again; "
          "{} row(s) in trips_default; warehouse: {} raw partition(s) dropped ({} rows)\n",
          r->partitions_made,
          std::count_if(r->partitions.begin(), r->partitions.end(),
                        [](const PartitionOutcome& p) { return p.dropped; }),
          r->rows_dropped, r->waiting, r->default_rows,
          std::count_if(r->raw_partitions.begin(), r->raw_partitions.end(),
                        [](const RawPartitionOutcome& p) { return p.dropped; }),
          r->raw_rows_dropped);
      return 0;
    });
  });
}

}  // namespace fp::retain
