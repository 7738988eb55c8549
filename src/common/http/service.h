// The lifecycle every long-running HTTP service of fleetpipe shares (the web app, the realtime dashboard,
// the console): start, serve until SIGINT/SIGTERM, stop. Each service keeps its own state behind it; its
// command runs any of them the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp::httpd {

class Service {
 public:
  explicit Service(std::string_view component) : component_(component) {}
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds and starts serving; port() is valid afterwards.
  virtual Status start() = 0;
  virtual uint16_t port() const = 0;
  // Stops serving and joins the service's threads. Idempotent.
  virtual void stop() = 0;

  // start()s, serves until shutdown is requested (SIGINT/SIGTERM), then stop()s.
  Status run_until_shutdown();

 private:
  std::string component_;  // the log component
};

}  // namespace fp::httpd
