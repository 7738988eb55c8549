// `fleetpipe webapp`: the "Latest Trips" page with its new-trip form, and the JSON API, on fp::httpd::Server.
//
//   GET  /                          latest measurement of every vehicle + the form
//   POST /submit                    the form (CSRF-checked, validated, 303 to / or 400/409 with the form)
//   GET  /api/trips/latest          the same rows as JSON
//   POST /api/trips                 JSON trip -> 201 with the stored row; errors as application/problem+json
//   GET  /api/vehicles/{id}/trips   ?limit=&before=<cursor>, keyset pages with a `next` cursor
//   GET  /static/...                CSS (web/webapp/)
//   GET  /healthz, /metrics         from the server base (health checks the database)
//
// The latest rows are cached for a short time (cache_ttl) and the cache is dropped on every insert this
// process makes, so a submitted trip shows on the very next "/"; other writers show within cache_ttl.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "common/http/service.h"

namespace fp::webapp {

struct WebappOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 5001;
  int io_threads = 2;
  // Handler threads. Submissions wait for their group commit on these, so there are many; they are idle
  // otherwise.
  int worker_threads = 32;
  int db_connections = 4;            // for reads; inserts use StoreOptions::writers more
  std::filesystem::path static_dir;  // empty: web/webapp next to the working directory or the binary
  std::string schema = "public";
  std::string csrf_secret;  // empty: random per process
  std::chrono::milliseconds cache_ttl{1000};
  size_t max_body_bytes = 16 * 1024;  // a trip is a few hundred bytes
};

class WebApp : public httpd::Service {
 public:
  WebApp(const Config& config, WebappOptions options);
  ~WebApp() override;
  Status start() override;
  uint16_t port() const override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Where the static files are when not configured: ./web/webapp, else <binary dir>/../web/webapp.
std::filesystem::path default_static_dir();

}  // namespace fp::webapp
