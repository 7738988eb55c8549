// What every subcommand does around its work: load the configuration, log what failed under the
// subcommand's name, and turn the outcome into the process's exit code (0 done, 1 the work failed,
// 2 bad options or configuration).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "common/config.h"
#include "common/error.h"

namespace fp::cli {

inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
// A command that stopped because SIGINT or SIGTERM asked it to (128 + SIGINT, the shell's convention).
inline constexpr int kExitInterrupted = 130;

// Logs e under component and returns code, or kExitInterrupted once SIGINT/SIGTERM asked for a shutdown
// (then the interruption is the failure).
int fail(std::string_view component, const Error& e, int code = kExitFailed);

// 0 for success; otherwise the error logged under component and code.
int exit_code(std::string_view component, const Status& st, int code = kExitFailed);

// Loads the configuration and returns body's exit code; a configuration that does not load is logged
// ("configuration: ...") and gives kExitUsage.
int with_config(std::string_view component, const std::function<int(Config&)>& body);

// A --listen value, HOST:PORT.
Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& s);

// A long-running service: Service(config, options).run_until_shutdown() with the loaded configuration.
template <typename Service, typename Options>
int serve(std::string_view component, const Options& options) {
  return with_config(component, [&](Config& cfg) {
    Service service(cfg, options);
    return exit_code(component, service.run_until_shutdown());
  });
}

}  // namespace fp::cli
