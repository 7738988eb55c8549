#include "load/cli.h"

#include <map>

#include "common/cli_support.h"
#include "load/loader.h"
#include "load/verify.h"

namespace fp::batch {

void add_load_commands(CLI::App& app, int& exit_code) {
  auto* load = app.add_subcommand("load", "Load what the committed export runs list and the warehouse lacks");
  auto lopts = std::make_shared<LoadOptions>();
  load->add_option("--prefix", lopts->prefix, "Key prefix inside the bucket");
  load->add_option("--parallel", lopts->parallel, "Objects loaded at once, each on its own connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  load->add_option("--max-line-bytes", lopts->max_line_bytes, "Longest NDJSON line an object may hold")
      ->capture_default_str()
      ->check(CLI::Range(size_t{256}, size_t{64} << 20));
  load->add_option("--max-object-bytes", lopts->max_object_bytes,
                   "Most bytes one object may inflate to (also capped at its rows x the longest line)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 40));
  load->callback([lopts, &exit_code] {
    exit_code = cli::with_config("load", [&](const Config& cfg) {
      auto r = run_load(cfg, *lopts);
      if (!r) return cli::fail("load", r.error());
      fmt::print(
          "load: {} objects, {} rows and {} deletes loaded; {} quarantined; {} already loaded{}\n",
          r->objects_loaded, r->rows, r->deletes, r->quarantined, r->already_loaded,
          r->superseded > 0 ? fmt::format("; {} superseded by epoch {}", r->superseded, r->epoch) : "");
      // A quarantined object is a data problem someone must look at: say so in the exit code too.
      return r->quarantined > 0 ? 3 : 0;
    });
  });

  auto* verify =
      app.add_subcommand("verify", "Reconcile source, bucket and warehouse; exit 1 on any mismatch");
  auto vopts = std::make_shared<VerifyOptions>();
  verify->add_option("--prefix", vopts->prefix, "Key prefix inside the bucket");
  verify
      ->add_option("--scope", vopts->scope,
                   "all: every stage over the whole history; newest-run: what the last export added "
                   "(the scheduler's every-run check)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, VerifyScope>{
          {"all", VerifyScope::kAll}, {"newest-run", VerifyScope::kNewestRun}}))
      ->capture_default_str();
  verify->add_flag("--reread-all-days", vopts->reread_all_days,
                   "source->warehouse: read every day on both sides again instead of only the days changed "
                   "since the previous check (whose per-day checksums the warehouse keeps)");
  verify->callback([vopts, &exit_code] {
    exit_code = cli::with_config("verify", [&](const Config& cfg) {
      auto r = run_verify(cfg, *vopts);
      // Exit 1 means a mismatch; a verify that could not run is 2.
      if (!r) return cli::fail("verify", r.error(), cli::kExitUsage);
      bool all = true;
      for (const auto& l : *r) {
        fmt::print("{} {:<18} {:<9} {}\n", l.pass ? "PASS" : "FAIL", l.stage, l.table, l.detail);
        all = all && l.pass;
      }
      return all ? 0 : 1;
    });
  });
}

}  // namespace fp::batch
