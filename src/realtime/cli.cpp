#include "realtime/cli.h"

#include <malloc.h>

#include <cstdlib>

#include "common/cli_support.h"
#include "realtime/service.h"

namespace fp::realtime {

void add_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("realtime", "Serve the live fleet dashboard fed by change data capture");
  auto opts = std::make_shared<RealtimeOptions>();
  auto source = std::make_shared<std::string>("cdc");
  cmd->add_option("--bind", opts->bind_address, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "Port to listen on")->capture_default_str();
  cmd->add_option("--source", *source,
                  "cdc: the webapp database's Debezium topics; direct: the generator's trips topic")
      ->capture_default_str()
      ->check(CLI::IsMember({"cdc", "direct"}));
  cmd->add_option("--topic", opts->direct_topic, "The topic --source direct reads")->capture_default_str();
  cmd->add_option("--group", opts->group_id, "Consumer group (default fleetpipe-realtime[-direct])");
  cmd->add_option("--track-points", opts->track_limit, "Points of recent track kept per vehicle")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  auto window_s = std::make_shared<int64_t>(opts->rebuild_track_window.count());
  cmd->add_option("--rebuild-track-window", *window_s,
                  "Seconds: the database rebuild reads tracks of the vehicles that reported within this long "
                  "before the fleet's newest point (the rest get their newest point)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{30} * 86400));
  cmd->add_option("--rebuild-track-vehicles", opts->rebuild_track_vehicles,
                  "At most this many vehicles get a track from the database rebuild")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--max-viewers", opts->max_viewers, "Viewers served at once; more are answered 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--static-dir", opts->static_dir, "Dashboard files (default web/realtime)");
  cmd->add_option("--vendor-dir", opts->vendor_dir,
                  "npm packages with Plotly.js and the basemap (default node_modules)");
  cmd->add_option("--schema", opts->schema, "Webapp database schema to rebuild the state from")
      ->capture_default_str();
  cmd->add_flag(
      "--new-group-from-end", opts->new_group_from_end,
      "A group without committed offsets starts at the topics' end as of its assignment (with the "
      "database rebuild it already starts at their end as of the rebuild; without, at their beginning)");
  auto tick_ms = std::make_shared<int>(static_cast<int>(opts->tick.count()));
  cmd->add_option("--tick-ms", *tick_ms, "Changes are batched and pushed to the viewers once per tick")
      ->capture_default_str()
      ->check(CLI::Range(5, 1000));
  cmd->add_flag("!--no-rebuild", opts->rebuild_from_db, "Start from the topics alone, not the database");
  cmd->callback([opts, source, tick_ms, window_s, &exit_code] {
    opts->source = *source == "direct" ? Source::kDirect : Source::kCdc;
    opts->tick = std::chrono::milliseconds(*tick_ms);
    opts->rebuild_track_window = std::chrono::seconds(*window_s);
    // glibc gives every thread that allocates its own arena (up to 8 per core), each keeping freed memory;
    // with the HTTP, worker and librdkafka threads that multiplies the peak RSS for no speed we need.
    // MALLOC_ARENA_MAX in the environment still wins.
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
    exit_code = cli::serve<RealtimeService>("realtime", *opts);
  });
}

}  // namespace fp::realtime
