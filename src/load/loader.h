// `fleetpipe load`: loads into the warehouse what the bucket's committed run manifests list (with the
// committed compactions applied) and the warehouse has not loaded yet (load/plan.h). Objects no manifest
// lists are never loaded.
//
// Each object is checked against its manifest entry (size before the download; SHA-256 and row count as it
// streams: S3 GET -> SHA-256 + bounded zlib inflate -> simdjson validation -> COPY), then in the same
// transaction recorded in raw.load_manifest (key, ETag, sha256, run, epoch) and applied to raw.<table>:
// row versions are upserted by id, tombstones mark ids deleted, each keeping the newest version by
// (epoch, _source_xid), so objects may load in any order, and twice. An object that does not match its
// manifest or breaks a limit (not gzip, truncated, not JSON, wrong types or fields, a version outside its
// run's transaction range, a line over --max-line-bytes, more rows than listed, values the warehouse
// refuses) is moved to quarantine/ with a .reason.txt beside it, and the others still load.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/error.h"

namespace fp::batch {

struct LoadOptions {
  std::string prefix;
  bool progress = true;
  int parallel = 2;                        // objects loaded at once, each on its own connection
  size_t max_line_bytes = 64 * 1024;       // one NDJSON line at most
  uint64_t max_object_bytes = 4ull << 30;  // inflated bytes of one object at most (also rows x line)
};

struct LoadReport {
  int64_t objects_loaded = 0;
  int64_t rows = 0;
  int64_t quarantined = 0;
  int64_t already_loaded = 0;
  int64_t deletes = 0;             // tombstones applied
  int64_t superseded = 0;          // objects of an older epoch's runs, never loaded
  int64_t quarantined_before = 0;  // objects of unfinished runs that an earlier load quarantined
  int64_t swept = 0;               // rows of older epochs a new epoch's re-export did not carry
  int64_t via_compaction = 0;      // compacted objects recorded unread: all they replaced was loaded
  int epoch = 0;
};

Result<LoadReport> run_load(const Config& cfg, const LoadOptions& opts);

}  // namespace fp::batch
