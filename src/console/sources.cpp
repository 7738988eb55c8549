#include "console/sources.h"

#include "common/log.h"
#include "common/metrics.h"
#include "stack/disk_report.h"

namespace fp::console {

std::vector<LinkedService> default_linked_services() {
  return {
      {"webapp", "Web app", "http://127.0.0.1:5001/", "/healthz"},
      {"realtime", "Live dashboard", "http://127.0.0.1:18050/", "/healthz"},
      {"scheduler", "Scheduler", "http://127.0.0.1:18070/", "/healthz"},
      // pgAdmin's own liveness endpoint.
      {"pgadmin", "pgAdmin", "http://127.0.0.1:5050/", "/misc/ping"},
  };
}

Sources::Sources(Config config, std::vector<LinkedService> services, std::string export_prefix,
                 Timeouts timeouts)
    : cfg_(std::move(config)),
      services_(std::move(services)),
      export_prefix_(std::move(export_prefix)),
      timeouts_(timeouts) {}

Result<kafka::Admin*> Sources::admin() {
  std::lock_guard lock(admin_mu_);
  if (!admin_) {
    kafka::AdminOptions o;
    o.bootstrap = cfg_.kafka_bootstrap;
    o.client_id = "fleetpipe-console";
    o.timeout = timeouts_.kafka;
    auto created = kafka::Admin::create(std::move(o));
    if (!created.ok()) return created.error().context("kafka admin");
    admin_ = std::move(created.value());
  }
  return admin_.get();
}

namespace {
Result<pg::Connection> connect(const PgConfig& pg, const Timeouts& t) {
  pg::ConnectOptions o;
  o.connect_timeout_s = t.pg_connect_s;
  o.statement_timeout = t.statement;
  o.client_grace = std::chrono::milliseconds(2000);
  // Read with the same session settings whatever the server's defaults.
  o.settings = {{"TimeZone", "UTC"}};
  return pg::Connection::connect_once(pg, o);
}
}  // namespace

Result<pg::Connection> Sources::webapp_db() const {
  return connect(cfg_.webapp_as(DbService::kConsole), timeouts_);
}

Result<pg::Connection> Sources::warehouse_db() const {
  return connect(cfg_.warehouse_as(DbService::kConsole), timeouts_);
}

s3::Client Sources::bucket() const {
  s3::ClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.request_timeout = timeouts_.http;
  o.backoff.max_attempts = 2;
  o.backoff.base = std::chrono::milliseconds(100);
  o.backoff.cap = std::chrono::milliseconds(300);
  return s3::Client(cfg_.s3, o);
}

nlohmann::json Sources::disk_usage() {
  std::lock_guard lock(disk_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!disk_.is_null() && now - disk_at_ < timeouts_.disk_ttl) return disk_;
  auto ctx = stack::Context::load();
  if (!ctx) return failed_panel("storage", ctx.error());
  ctx->cfg = cfg_;
  stack::DiskOptions o;
  // Shorter than `status`'s: the console's refresh waits for it every disk_ttl.
  o.tree_time = std::chrono::milliseconds(1000);
  o.bucket_time = std::chrono::milliseconds(3000);
  o.bucket_prefix = export_prefix_;
  o.pg_connect_timeout_s = 2;
  o.pg_statement = std::chrono::milliseconds(2000);
  disk_ = stack::measure_disk(*ctx, o);
  disk_at_ = std::chrono::steady_clock::now();
  return disk_;
}

}  // namespace fp::console

namespace fp::console {
nlohmann::json failed_panel(std::string_view panel, const Error& e) {
  log::warn("console", "{}: {}", panel, e.message);
  metrics::default_registry()
      .counter("console_panel_errors_total", "Panels that could not be filled because their source failed",
               {{"panel", std::string(panel)}})
      .inc();
  return {{"error", e.message}};
}
}  // namespace fp::console
