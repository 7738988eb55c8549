// The dashboard's start from the webapp database: every vehicle's newest point and the recent tracks, read
// once before the consumer starts, so a restart never shows an empty map. Its own file because it is the
// service's only use of PostgreSQL; the change topics do the rest.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "realtime/state.h"

namespace fp::realtime {

struct RebuildOptions {
  std::string schema = "public";  // the search_path
  // Each vehicle gets its newest point; those whose newest point is within `track_window` of the fleet's
  // newest (at most `track_vehicles` of them, the most recent first) also get up to `track_points` points of
  // their newest trip. The bounds keep the rebuild's rows at vehicles + track_vehicles x track_points.
  size_t track_points = 200;
  std::chrono::seconds track_window{3600};
  size_t track_vehicles = 5000;
  std::chrono::milliseconds timeout{30000};
};

// Reads the rows above and applies them to `state` as snapshot reads, under `mu`. Returns the number of rows
// read.
Result<size_t> rebuild_from_database(const PgConfig& db, const RebuildOptions& options, std::mutex& mu,
                                     FleetState& state);

}  // namespace fp::realtime
