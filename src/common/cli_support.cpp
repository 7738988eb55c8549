#include "common/cli_support.h"

#include "common/log.h"
#include "common/shutdown.h"

namespace fp::cli {

int fail(std::string_view component, const Error& e, int code) {
  if (shutdown::requested()) {
    log::warn(component, "interrupted: {}", e.message);
    return kExitInterrupted;
  }
  log::error(component, "{}", e.message);
  return code;
}

int exit_code(std::string_view component, const Status& st, int code) {
  return st ? 0 : fail(component, st.error(), code);
}

int with_config(std::string_view component, const std::function<int(Config&)>& body) {
  auto cfg = Config::load();
  if (!cfg) return fail(component, std::move(cfg).error().context("configuration"), kExitUsage);
  return body(*cfg);
}

Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return invalid_input("--listen '{}': expected HOST:PORT", s);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return invalid_input("--listen '{}': bad port", s);
  return std::pair{s.substr(0, colon), static_cast<uint16_t>(port)};
}

}  // namespace fp::cli
