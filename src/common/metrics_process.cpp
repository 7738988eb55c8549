#include "common/metrics_process.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/metrics.h"

namespace fp::metrics {
namespace {

std::optional<double> resident_bytes() {
  // statm: size resident shared text lib data dt, in pages.
  std::ifstream in("/proc/self/statm");
  long long size = 0, resident = 0;
  if (!(in >> size >> resident)) return std::nullopt;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

std::optional<double> start_time_seconds() {
  // Field 22 of /proc/self/stat is the start time in clock ticks after boot; boot time is "btime" in
  // /proc/stat. The command name (field 2) may contain spaces, so fields are counted after its ')'.
  std::ifstream stat_in("/proc/self/stat");
  std::string line;
  if (!std::getline(stat_in, line)) return std::nullopt;
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  char* end = nullptr;
  const double ticks = std::strtod(field.c_str(), &end);
  if (end == field.c_str()) return std::nullopt;
  std::ifstream proc_stat("/proc/stat");
  std::string key;
  long long btime = -1;
  while (proc_stat >> key) {
    if (key == "btime") {
      proc_stat >> btime;
      break;
    }
    std::getline(proc_stat, line);
  }
  const long hz = sysconf(_SC_CLK_TCK);
  if (btime < 0 || hz <= 0) return std::nullopt;
  return static_cast<double>(btime) + ticks / static_cast<double>(hz);
}

std::optional<double> cpu_seconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return std::nullopt;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void append(std::string& out, const char* name, const char* type, const char* help, std::optional<double> v) {
  if (!v) return;
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, format_value(*v));
}

}  // namespace

std::string render_process_metrics() {
  std::string out;
  append(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
         cpu_seconds());
  append(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", resident_bytes());
  append(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
         start_time_seconds());
  return out;
}

}  // namespace fp::metrics
