// The dashboard's start from the webapp database: the latest points of every vehicle, read once before the
// consumer starts, so a restart never shows an empty map. Its own file because it is the service's only
// use of PostgreSQL; the change topics do the rest.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "realtime/state.h"

namespace fp::realtime {

// Reads up to `track_limit` latest trips rows of every vehicle (schema: the search_path) and applies them to
// `state` as snapshot reads, under `mu`. Returns the number of rows read.
Result<size_t> rebuild_from_database(const PgConfig& db, const std::string& schema, size_t track_limit,
                                     std::mutex& mu, FleetState& state);

}  // namespace fp::realtime
