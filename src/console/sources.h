// What the console looks at and how: the configuration, the other UIs' addresses, and the clients it
// reuses (one Kafka admin handle). Every call made through here has a short timeout, so a part that is down
// costs its panel a few seconds at most and never the page.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/kafka/admin.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"

namespace fp::console {

// Another UI of the pipeline: linked from the overview, its health probed over HTTP.
struct LinkedService {
  std::string name;         // "webapp"
  std::string title;        // "Web app"
  std::string url;          // "http://127.0.0.1:5001/"
  std::string health_path;  // "/healthz"
};

std::vector<LinkedService> default_linked_services();

struct Timeouts {
  std::chrono::milliseconds http{3000};
  std::chrono::milliseconds kafka{5000};
  std::chrono::milliseconds statement{5000};
  int pg_connect_s = 3;
  std::chrono::seconds disk_ttl{30};
};

class Sources {
 public:
  Sources(Config config, std::vector<LinkedService> services, std::string export_prefix, Timeouts timeouts);

  const Config& config() const { return cfg_; }
  const std::vector<LinkedService>& services() const { return services_; }
  const std::string& export_prefix() const { return export_prefix_; }
  const Timeouts& timeouts() const { return timeouts_; }

  // The shared admin client (created on first use; librdkafka handles are thread-safe).
  Result<kafka::Admin*> admin();
  // A fresh session, one attempt (no retry loop: the console shows the failure instead of waiting).
  Result<pg::Connection> webapp_db() const;
  Result<pg::Connection> warehouse_db() const;
  // An S3 client with short timeouts and a single retry.
  s3::Client bucket() const;
  // Each store's disk usage (stack/disk_report.h), measured again only when the last measurement is older
  // than disk_ttl: a measurement walks directories and lists the bucket, too much for every refresh.
  nlohmann::json disk_usage();

 private:
  Config cfg_;
  std::vector<LinkedService> services_;
  std::string export_prefix_;
  Timeouts timeouts_;
  std::mutex admin_mu_;
  std::unique_ptr<kafka::Admin> admin_;
  std::mutex disk_mu_;  // one measurement at a time; callers meanwhile wait for its result
  std::chrono::steady_clock::time_point disk_at_{};
  nlohmann::json disk_;
};

}  // namespace fp::console

namespace fp::console {
// {"error": message} for a panel whose source failed; logged and counted (console_panel_errors_total).
nlohmann::json failed_panel(std::string_view panel, const Error& e);
}  // namespace fp::console
