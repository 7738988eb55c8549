// Structured logging. One line per event, always with a component field. On a TTY the line is for humans
// ("12:00:01.234 INFO  [export] uploaded 3 objects"); otherwise it is one JSON object per line
// ({"ts":"…","level":"info","component":"export","msg":"uploaded 3 objects","rows":1200}) for log shippers.
#pragma once

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace fp::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kAuto, kText, kJson };

// Configures the process-wide logger. FLEETPIPE_LOG_LEVEL and FLEETPIPE_LOG_FORMAT override the arguments.
void init(Level level = Level::kInfo, Format format = Format::kAuto);
bool json_mode();
bool enabled(Level level);
Level parse_level(std::string_view s);

// Emits one event with optional structured fields (merged into the JSON object, appended as k=v in text).
void emit(Level level, std::string_view component, std::string_view message,
          const nlohmann::json& fields = nlohmann::json::object());

template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) emit(Level::kDebug, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) emit(Level::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) emit(Level::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  emit(Level::kError, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace fp::log
