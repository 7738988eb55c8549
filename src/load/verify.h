// `fleetpipe verify`: reconciles the batch lane end to end and prints one PASS/FAIL line per stage and table.
//
//   source->bucket     rows the committed manifests hold vs source rows below the latest watermark
//   bucket->warehouse  every object of every committed manifest is in raw.load_manifest with its row count
//   source->warehouse  per day: row count and an order-independent checksum, sum(hashtext(canonical row
//                      text)), computed in SQL on both sides over the same canonical text
//
// The source side is the rows with _export_xid below the latest committed run's watermark, i.e. what the
// bucket should hold; run it after export and load (the scheduler's order).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace fp::batch {

struct VerifyLine {
  bool pass = false;
  std::string stage;
  std::string table;
  std::string detail;
};

struct VerifyOptions {
  std::string prefix;
};

Result<std::vector<VerifyLine>> run_verify(const Config& cfg, const VerifyOptions& opts);

}  // namespace fp::batch
