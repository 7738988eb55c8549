// `fleetpipe load`: loads the bucket's exported objects that the warehouse has not loaded yet.
//
// Pending objects are the data keys in the bucket minus raw.load_manifest. Each object is streamed (S3 GET ->
// SHA-256 + zlib inflate -> simdjson validation -> COPY into a temp staging table) and then, in the same
// transaction, recorded in raw.load_manifest and upserted into raw.<table> keyed on id, keeping a row only
// when its _source_xid is at least the stored one (so objects may load in any order, and twice). A malformed
// object (not gzip, truncated, not JSON, wrong types or fields, a checksum or row-count mismatch, values the
// warehouse refuses) is moved to quarantine/ with a .reason.txt beside it, and the others still load.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/error.h"

namespace fp::batch {

struct LoadOptions {
  std::string prefix;
  bool progress = true;
  int parallel = 2;  // objects loaded at once, each on its own connection
};

struct LoadReport {
  int64_t objects_loaded = 0;
  int64_t rows = 0;
  int64_t quarantined = 0;
  int64_t already_loaded = 0;
};

Result<LoadReport> run_load(const Config& cfg, const LoadOptions& opts);

}  // namespace fp::batch
