#include "stack/services.h"

#include "common/http/client.h"
#include "common/net.h"

namespace fp::stack {

FleetpipeService::FleetpipeService(std::string name, std::vector<std::string> args, std::string address,
                                   std::string health_url)
    : name_(std::move(name)),
      args_(std::move(args)),
      address_(std::move(address)),
      health_url_(std::move(health_url)) {}

std::vector<int> FleetpipeService::ports() const {
  if (health_url_.empty()) return {};
  return {host_port(health_url_, 80).second};
}

Result<SpawnSpec> FleetpipeService::spawn_spec(Context& ctx) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return make_error("{}: cannot find the fleetpipe binary: {}", name_, ec.message());
  SpawnSpec s;
  s.argv = {self.string()};
  s.argv.insert(s.argv.end(), args_.begin(), args_.end());
  s.log_file = ctx.log_file(name_);
  s.cwd = ctx.repo;
  // Services log JSON lines to their files; they read the same configuration as we do.
  s.env_add = {{"FLEETPIPE_LOG_FORMAT", "json"}, {"FLEETPIPE_STATE_DIR", ctx.state().string()}};
  return s;
}

Status FleetpipeService::health(Context&) {
  if (health_url_.empty()) return ok_status();  // alive is all a batch-style worker can show
  auto r = http::get(health_url_, std::chrono::milliseconds(2000));
  if (!r) return transient_error("{}: {}", name_, r.error().message);
  if (r->status != 200) return transient_error("{}: /healthz answered {}", name_, r->status);
  return ok_status();
}

std::vector<std::unique_ptr<Component>> make_services(const Context&) {
  std::vector<std::unique_ptr<Component>> out;
  // A live fleet: 8 simulated vehicles, 4 measurements a second in all, into the webapp database (and so
  // through Debezium into Kafka) and onto the direct topic. --resume continues the same run across demos.
  out.push_back(std::make_unique<FleetpipeService>(
      "generator",
      std::vector<std::string>{"generate", "--simulate", "--vehicles", "8", "--seed", "7", "--step", "15",
                               "--rate", "4", "--sink", "postgres,kafka", "--resume", "--run-id", "demo-live",
                               "--batch-size", "1"},
      "simulated fleet: 8 vehicles, 4 measurements/s", ""));
  // The web app on its default port, its health check the same /healthz users see.
  out.push_back(std::make_unique<FleetpipeService>("webapp", std::vector<std::string>{"webapp"},
                                                   "http://127.0.0.1:5001/",
                                                   "http://127.0.0.1:5001/healthz"));
  // The live dashboard, fed by the webapp database's change topics.
  out.push_back(std::make_unique<FleetpipeService>("realtime", std::vector<std::string>{"realtime"},
                                                   "http://127.0.0.1:18050/",
                                                   "http://127.0.0.1:18050/healthz"));
  // The batch lane every minute: export -> load -> dbt build beside verify, with the run history in the
  // warehouse.
  out.push_back(std::make_unique<FleetpipeService>(
      "scheduler", std::vector<std::string>{"scheduler", "--every", "60s", "--listen", "127.0.0.1:18070"},
      "export -> load -> dbt build beside verify every 60 s", "http://127.0.0.1:18070/healthz"));
  // The operations console: every part's health, topics, lag, CDC, the batch lane.
  out.push_back(std::make_unique<FleetpipeService>("console", std::vector<std::string>{"console"},
                                                   "http://127.0.0.1:8080/",
                                                   "http://127.0.0.1:8080/healthz"));
  return out;
}

}  // namespace fp::stack
