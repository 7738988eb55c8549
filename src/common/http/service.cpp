#include "common/http/service.h"

#include <chrono>

#include "common/log.h"
#include "common/shutdown.h"

namespace fp::httpd {

Status Service::run_until_shutdown() {
  FP_CHECK(start(), component_);
  while (!shutdown::wait_for(std::chrono::milliseconds(500))) {
  }
  log::info(component_, "shutting down");
  stop();
  return ok_status();
}

}  // namespace fp::httpd
