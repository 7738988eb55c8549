// The HTTP/1.1 server every long-running service embeds (Boost.Beast on Asio): routing with path parameters,
// built-in /healthz and /metrics, static files, Server-Sent Events, limits, security headers and graceful
// shutdown.
//
// Threading: a few I/O threads run all sockets (accept, parse, write, SSE); handlers are synchronous and may
// block (database calls), so they run on a separate worker pool and never stall the I/O threads. An SSE
// client costs one socket, one timer and a small queue: no thread is held per client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/http/event_stream.h"
#include "common/http/message.h"
#include "common/http/static_files.h"

namespace fp::metrics {
class Registry;
}

namespace fp::httpd {

struct Health {
  bool ok = true;
  nlohmann::json detail = nlohmann::json::object();
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";  // loopback unless the deployment says otherwise
  uint16_t port = 0;                       // 0: an ephemeral port, see Server::port()
  int io_threads = 2;
  int worker_threads = 4;                          // handler pool; handlers may block on I/O
  size_t max_body_bytes = 1 << 20;                 // larger bodies get 413
  size_t max_header_bytes = 16 * 1024;             // larger request heads get 431
  std::chrono::milliseconds read_timeout{10'000};  // to receive a whole request once it started (→ 408)
  // A connection (new or kept alive) without a request's first byte for this long is closed.
  std::chrono::milliseconds idle_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};  // to send a response
  std::chrono::milliseconds sse_keepalive{15'000};  // comment line sent on idle SSE streams
  // Connections (HTTP and event streams together) past this many are answered 503 and closed; past twice
  // as many, closed unanswered. Event streams past max_event_streams are answered 503.
  size_t max_connections = 512;
  size_t max_event_streams = 128;
  // Host names answered besides "localhost" and the bound address (common/http/host_check.h); others get
  // 421. Empty: FLEETPIPE_ALLOWED_HOSTS.
  std::vector<std::string> allowed_hosts;
  size_t sse_max_queued_events = 1024;     // per client; beyond that the client is dropped
  size_t sse_max_queued_bytes = 8u << 20;  // per client, likewise (send_frame(): overflow)
  bool sse_gzip = true;  // gzip event streams for clients that accept it (one compression per shared frame)
  std::chrono::milliseconds shutdown_deadline{10'000};
  std::string content_security_policy = "default-src 'self'; frame-ancestors 'none'";
  // /healthz calls this (on a worker thread); unset means always healthy.
  std::function<Health()> health;
  // Registry for /metrics and the request metrics; nullptr means metrics::default_registry().
  metrics::Registry* metrics = nullptr;
  // /metrics calls this first (on a worker thread): for gauges that are a function of the time of reading.
  std::function<void()> before_metrics;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes must be added before start(). Patterns are "/a/{name}/b"; a last segment "{name*}" captures the
  // rest of the path. HEAD is served by the GET route without a body.
  Status route(std::string method, std::string pattern, Handler handler);
  Status get(std::string pattern, Handler handler) {
    return route("GET", std::move(pattern), std::move(handler));
  }
  Status post(std::string pattern, Handler handler) {
    return route("POST", std::move(pattern), std::move(handler));
  }
  // Serves files under `directory` at url_prefix ("/" or "/assets"); must exist.
  Status serve_static(std::string url_prefix, std::filesystem::path directory, StaticOptions options = {});

  // Binds, listens and starts the threads; port() is valid afterwards.
  Status start();
  uint16_t port() const;
  // Stops accepting, lets in-flight requests finish within the deadline, closes SSE streams and idle
  // connections, then joins all threads. Idempotent; a stopped server cannot be restarted. A handler still
  // running at the deadline is waited for (it cannot be interrupted), and stop() must not be called from a
  // handler or an SSE callback (it joins the threads those run on).
  void stop();
  void stop(std::chrono::milliseconds deadline);
  // start()s if needed, blocks until fp::shutdown::requested(), then stop()s.
  Status run_until_shutdown();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fp::httpd
