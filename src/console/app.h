// `fleetpipe console`: one place to see the whole pipeline (it replaces the seed's Redpanda Console and
// Debezium UI). Server-rendered pages, each with a JSON twin under /api/:
//
//   GET  /                       overview: stack parts (fleetpipe status) and the other UIs' health, live
//   GET  /api/overview           the same; GET /api/events streams it (SSE, event "overview")
//   GET  /topics[?internal=1]    topics, partitions, low/high offsets          (/api/topics)
//   GET  /topics/{name}?partition=&n=   partitions and the last n messages     (/api/topics/{name})
//   GET  /groups                 consumer groups: state, members, lag per partition (/api/groups)
//   GET  /cdc                    Kafka Connect connectors and tasks, replication slots (/api/cdc)
//   POST /cdc/connectors/{name}/restart          form (CSRF + operator token)
//   POST /api/cdc/connectors/{name}/restart      Authorization: Bearer <operator token>
//   GET  /batch[?before=]        export watermark, last load, dbt, verify, run history (/api/batch,
//   /api/runs) POST /batch/run-now, POST /api/runs          ask the scheduler for a run (token as above) GET
//   /dbt/...                the static dbt docs from <state>/dbt/target/ (or how to generate them) GET
//   /healthz, /metrics
//
// Read-only unless an action carries the operator token (console/token.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/http/service.h"
#include "console/sources.h"

namespace fp::console {

struct ConsoleOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 8080;
  int worker_threads = 8;
  std::filesystem::path static_dir;         // empty: web/console next to the working directory or the binary
  std::filesystem::path dbt_target;         // empty: <state>/dbt/target
  std::string csrf_secret;                  // empty: random per process
  std::string export_prefix;                // the exporter's key prefix in the bucket
  std::chrono::milliseconds refresh{5000};  // overview recomputed and pushed to SSE clients
  std::vector<LinkedService> services = default_linked_services();
  Timeouts timeouts;
};

class Console : public httpd::Service {
 public:
  Console(const Config& config, ConsoleOptions options);
  ~Console() override;
  Status start() override;
  uint16_t port() const override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

std::filesystem::path default_static_dir();

}  // namespace fp::console
