// <state>/run/supervision.json: what the supervisor (`fleetpipe supervise`) knows of each part it watches,
// replaced atomically on every change; `status` and the console read it for restart counts and for the
// parts it is restarting or has given up on.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace fp::stack {

struct PartSupervision {
  // "running", "starting" (restarted, not healthy yet), "backoff" (waiting to restart), "failed" (given up)
  std::string phase = "running";
  int restarts = 0;
  std::string last_exit;       // "exited with 1", "killed by signal 9", "gone" (how it died, when known)
  double last_death_unix = 0;  // 0: never died under this supervisor
  double restart_at_unix = 0;  // backoff: when the next start is due
  std::vector<std::string> log_tail;  // failed: the last lines of its log
};

struct Supervision {
  double updated_unix = 0;
  std::map<std::string, PartSupervision> parts;
};

nlohmann::json to_json(const Supervision& s);
// An error for a file that is not this format; a missing file is kNotFound.
Result<Supervision> read_supervision(const std::filesystem::path& path);
Status write_supervision(const std::filesystem::path& path, const Supervision& s);

}  // namespace fp::stack
