// The standard process_* metrics every Prometheus client exports, read from /proc at scrape time.
#pragma once

#include <string>

namespace fp::metrics {

// Renders process_resident_memory_bytes, process_start_time_seconds and process_cpu_seconds_total
// (HELP/TYPE included). A value that cannot be read is left out rather than reported as a wrong number.
std::string render_process_metrics();

}  // namespace fp::metrics
