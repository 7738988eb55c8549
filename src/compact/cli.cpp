#include "compact/cli.h"

#include "common/byte_size.h"
#include "common/cli_support.h"
#include "compact/compactor.h"

namespace fp::compact {

void add_compact_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "compact", "Rewrite the bucket's small objects of each closed day into a few large ones per table");
  auto opts = std::make_shared<CompactOptions>();
  cmd->add_option("--prefix", opts->prefix, "Key prefix inside the bucket");
  cmd->add_flag("--dry-run", opts->dry_run, "Say what would be compacted, write and delete nothing");
  cmd->add_option("--gzip-level", opts->gzip_level, "Compression level of the compacted objects")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  cmd->add_option("--max-days", opts->max_days, "Table-days compacted in one pass at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->callback([opts, &exit_code] {
    exit_code = cli::with_config("compact", [&](const Config& cfg) {
      auto r = run_compact(cfg, *opts);
      if (!r) return cli::fail("compact", r.error());
      int64_t compacted = 0;
      for (const auto& d : r->days) {
        if (d.compaction > 0) {
          ++compacted;
          fmt::print("COMPACTED {} {}: {} objects ({}) -> {} ({}), {} lines, compaction {}\n", d.table, d.dt,
                     d.replaced, format_byte_size(d.bytes_before), d.outputs, format_byte_size(d.bytes_after),
                     d.rows, d.compaction);
        } else {
          fmt::print("KEPT      {} {}: {}{}\n", d.table, d.dt, d.skipped,
                     d.replaced > 0
                         ? fmt::format(" ({} objects, {})", d.replaced, format_byte_size(d.bytes_before))
                         : "");
        }
      }
      fmt::print(
          "compact: {} day(s) compacted, {} waiting, {} run manifest(s) read; {} crashed compaction(s) "
          "finished, {} cleaned away\n",
          compacted, r->waiting, r->runs_read, r->finished, r->aborted);
      return 0;
    });
  });
}

}  // namespace fp::compact
