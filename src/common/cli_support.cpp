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

}  // namespace fp::cli
