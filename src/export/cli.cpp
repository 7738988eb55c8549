#include "export/cli.h"

#include "common/cli_support.h"
#include "export/exporter.h"

namespace fp::batch {

void add_export_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "export", "Export new and changed drivers, vehicles and trips from the webapp database to the bucket");
  auto opts = std::make_shared<ExportOptions>();
  cmd->add_option("--prefix", opts->prefix, "Key prefix inside the bucket (e.g. scratch/)");
  cmd->add_option("--max-rows-per-object", opts->max_rows_per_object, "Rows per object at most")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd->add_option("--gzip-level", opts->gzip_level, "zlib level 1 (fast) to 9 (small)")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  cmd->add_flag("--new-epoch", opts->new_epoch,
                "Re-export every row into a new epoch: the recovery after the webapp database was restored "
                "or recreated while the bucket survived (README: Recovering the batch lane)");
  cmd->callback([opts, &exit_code] {
    exit_code = cli::with_config("export", [&](const Config& cfg) {
      auto r = run_export(cfg, *opts);
      if (!r) return cli::fail("export", r.error());
      if (r->run == 0)
        fmt::print("export: up to date\n");
      else
        fmt::print(
            "export: run {}{} (epoch {}): {} rows and {} deletes in {} objects ({} bytes), xid [{}, {})\n",
            r->run,
            r->new_epoch ? " (new epoch)"
            : r->resumed ? " (resumed)"
                         : "",
            r->epoch, r->rows, r->deletes, r->objects, r->bytes, r->xid_from, r->xid_to);
      return 0;
    });
  });
}

}  // namespace fp::batch
