// dbt's run_results.json (target/run_results.json after `dbt build`) reduced to what the run history keeps:
// node counts by outcome, models and tests apart, rows affected, and the failing nodes with their messages.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace fp::sched {

struct DbtCounts {
  int64_t pass = 0, fail = 0, error = 0, skip = 0, warn = 0;
  int64_t total() const { return pass + fail + error + skip + warn; }
  nlohmann::json to_json() const;
};

struct DbtFailure {
  std::string unique_id;
  std::string status;
  std::string message;
};

struct DbtResults {
  DbtCounts all;     // every node: the step's detail {"pass","fail","error","skip","warn"}
  DbtCounts models;  // models, seeds, snapshots
  DbtCounts tests;   // data and unit tests
  int64_t rows = 0;  // rows affected by model builds, as the adapter reports them
  double elapsed_s = 0;
  std::vector<DbtFailure> failures;  // fail/error nodes (first 20)
  bool ok() const { return all.fail == 0 && all.error == 0; }
  nlohmann::json to_json() const;
};

// Parses the text of run_results.json. Unknown statuses are an error (the schema changed under us).
Result<DbtResults> parse_run_results(std::string_view json_text);

}  // namespace fp::sched
