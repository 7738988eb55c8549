// The `fleetpipe` binary as the lifecycle tests drive it: a command's exit code and output, and `status
// --json` read back.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace fp::lifecycle {

using nlohmann::json;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

inline CommandResult run(const std::string& args) {
  const char* bin = std::getenv("FLEETPIPE_BIN");
  const std::string cmd = std::string(bin && *bin ? bin : "build/fleetpipe") + " " + args + " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The parts of status --json ({"parts": [...], "disk": {...}}).
inline json status_json() {
  auto r = run("status --json");
  // Logs go to stderr, which run() merges; the JSON document is the first line that starts with '{'.
  const size_t at = r.output.rfind('{', 0) == 0 ? 0 : r.output.find("\n{");
  if (at == std::string::npos) return json::array();
  const json doc = json::parse(r.output.substr(at), nullptr, false);
  return doc.is_object() && doc.contains("parts") ? doc["parts"] : json::array();
}

// status --json, which must list every part: a loop over an empty or cut list would assert nothing.
inline constexpr size_t kParts = 12;
inline json all_parts() {
  json parts = status_json();
  EXPECT_TRUE(parts.is_array() && parts.size() >= kParts) << "status --json listed " << parts.dump();
  return parts.is_array() ? parts : json::array();
}

// name -> pid of every part status lists.
inline std::map<std::string, int64_t> pids_of(const json& parts) {
  std::map<std::string, int64_t> out;
  for (const auto& p : parts)
    if (p.contains("pid") && p["pid"].is_number()) out[p.value("name", "")] = p["pid"].get<int64_t>();
  return out;
}

inline std::string state_of(const json& parts, const std::string& name) {
  for (const auto& p : parts)
    if (p.value("name", "") == name) return p.value("state", "");
  return "(absent)";
}

}  // namespace fp::lifecycle
