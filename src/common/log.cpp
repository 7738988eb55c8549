#include "common/log.h"

#include <fmt/chrono.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>

namespace fp::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_json{false};
std::once_flag g_default_once;
std::shared_ptr<spdlog::logger> g_logger;
std::mutex g_init_mu;

// Each level with spdlog's level and its name in JSON lines.
struct LevelInfo {
  Level level;
  spdlog::level::level_enum spd;
  const char* name;
};
constexpr std::array<LevelInfo, 4> kLevels = {{{Level::kDebug, spdlog::level::debug, "debug"},
                                               {Level::kInfo, spdlog::level::info, "info"},
                                               {Level::kWarn, spdlog::level::warn, "warn"},
                                               {Level::kError, spdlog::level::err, "error"}}};

const LevelInfo& level_info(Level l) {
  for (const auto& i : kLevels)
    if (i.level == l) return i;
  return kLevels[1];
}

spdlog::level::level_enum to_spd(Level l) {
  return level_info(l).spd;
}

const char* level_name(Level l) {
  return level_info(l).name;
}

std::string iso_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(system_clock::to_time_t(now)), ms);
}

void ensure_logger() {
  std::call_once(g_default_once, [] {
    if (!g_logger) init();
  });
}

}  // namespace

Level parse_level(std::string_view s) {
  if (s == "debug" || s == "trace") return Level::kDebug;
  if (s == "warn" || s == "warning") return Level::kWarn;
  if (s == "error") return Level::kError;
  return Level::kInfo;
}

void init(Level level, Format format) {
  std::lock_guard lock(g_init_mu);
  if (const char* env = std::getenv("FLEETPIPE_LOG_LEVEL")) level = parse_level(env);
  if (const char* env = std::getenv("FLEETPIPE_LOG_FORMAT")) {
    std::string_view f(env);
    format = f == "json" ? Format::kJson : f == "text" ? Format::kText : Format::kAuto;
  }
  const bool json = format == Format::kJson || (format == Format::kAuto && !isatty(STDERR_FILENO));
  g_json.store(json);
  g_level.store(static_cast<int>(level));
  // Logs go to stderr so that stdout stays clean for command output (status --json, config).
  if (!g_logger) {
    g_logger = spdlog::stderr_color_mt("fleetpipe");
  }
  g_logger->set_pattern(json ? "%v" : "%H:%M:%S.%e %^%-5l%$ %v");
  g_logger->set_level(to_spd(level));
  g_logger->flush_on(spdlog::level::trace);
}

bool json_mode() {
  ensure_logger();
  return g_json.load();
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}

void emit(Level level, std::string_view component, std::string_view message, const nlohmann::json& fields) {
  ensure_logger();
  if (!enabled(level)) return;
  if (g_json.load()) {
    nlohmann::json line = {
        {"ts", iso_now()}, {"level", level_name(level)}, {"component", component}, {"msg", message}};
    if (fields.is_object())
      for (const auto& [k, v] : fields.items()) line[k] = v;
    g_logger->log(to_spd(level), "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    std::string extra;
    if (fields.is_object())
      for (const auto& [k, v] : fields.items())
        extra += fmt::format(" {}={}", k, v.is_string() ? v.get<std::string>() : v.dump());
    g_logger->log(to_spd(level), "[{}] {}{}", component, message, extra);
  }
}

}  // namespace fp::log
