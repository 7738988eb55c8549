// fleetpipe's own long-running services (the web app, the live generator, ...) run as parts of the stack
// when asked for (`up --with-services`, `demo`): started after the engines, supervised and stopped the same
// way, with their logs in <state>/log/<name>.log.
#pragma once

#include "stack/component.h"

namespace fp::stack {

class FleetpipeService : public Component {
 public:
  // `args` follow the fleetpipe binary (a subcommand and its options); `health_url` empty means "the
  // process is alive" is the health check.
  FleetpipeService(std::string name, std::vector<std::string> args, std::string address,
                   std::string health_url);

  std::string name() const override { return name_; }
  std::string address() const override { return address_; }
  std::vector<int> ports() const override;
  bool optional() const override { return true; }
  Status prepare(Context&) override { return ok_status(); }
  Result<SpawnSpec> spawn_spec(Context& ctx) override;
  Status health(Context& ctx) override;
  std::chrono::seconds start_timeout() const override { return std::chrono::seconds(30); }
  std::chrono::milliseconds stop_grace() const override { return std::chrono::milliseconds(15000); }

 private:
  std::string name_;
  std::vector<std::string> args_;
  std::string address_;
  std::string health_url_;
};

// The services `demo` runs, in start order.
std::vector<std::unique_ptr<Component>> make_services(const Context& ctx);

}  // namespace fp::stack
