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

namespace fp::metrics {
class Registry;
}

namespace fp::httpd {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/api/vehicles/7/trips?from=2024-01-01"
  std::string path;    // percent-decoded path without the query: "/api/vehicles/7/trips"
  std::string route;   // the matched pattern: "/api/vehicles/{id}/trips"
  std::map<std::string, std::string> params;      // path parameters, percent-decoded: {"id": "7"}
  std::multimap<std::string, std::string> query;  // query string, percent-decoded ('+' is a space)
  Headers headers;                                // names lower-cased
  std::string body;
  std::string remote_address;  // peer IP address
  uint16_t remote_port = 0;

  // First value of a header (name case-insensitive) or query parameter; nullptr when absent.
  const std::string* header(std::string_view name) const;
  const std::string* query_value(std::string_view name) const;
};

class SseStream;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  Headers headers;  // extra headers; these override the server's security headers of the same name
  std::string body;
  // When set, the connection becomes a Server-Sent Events stream (see event_stream()).
  std::function<void(std::shared_ptr<SseStream>)> on_event_stream;

  static Response text(int status, std::string body);
  static Response json(int status, const nlohmann::json& body);
  // Takes the connection over as a text/event-stream. on_open runs on a worker thread once the stream
  // exists; keep the pointer to send() events later from any thread.
  static Response event_stream(std::function<void(std::shared_ptr<SseStream>)> on_open);
  Response& header(std::string name, std::string value);
};

using Handler = std::function<Response(const Request&)>;

// One or more events already in the text/event-stream framing (see sse_frame()). Shared by reference: a
// server that sends the same change to many viewers formats it once and every queue holds the same buffer.
// For gzip streams the frame is deflated once as well, on first use, on its own: a fresh dictionary and a
// sync flush at the end, so such pieces concatenate into one valid deflate stream and one compressed copy
// serves every viewer, whatever that viewer received before.
class SseFrameData {
 public:
  explicit SseFrameData(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }
  // Raw deflate of text(); empty only when zlib failed (out of memory), which the stream treats as fatal.
  const std::string& deflated() const;

 private:
  std::string text_;
  mutable std::once_flag deflate_once_;
  mutable std::string deflated_;
};
using SseFrame = std::shared_ptr<const SseFrameData>;

// Formats one event ("event:", "data:" per line, "id:"; empty event/id are omitted) as a shareable frame.
SseFrame sse_frame(std::string_view event, std::string_view data, std::string_view id = {});

// One Server-Sent Events client. All methods are thread-safe and never block on the network.
class SseStream {
 public:
  enum class SendResult {
    kQueued,
    kOverflow,  // the client is too far behind: the queued frames were discarded, the stream stays open
    kClosed,
  };
  virtual ~SseStream() = default;
  // Queues one event ("event:", "data:" per line, "id:"; empty event/id are omitted). Returns false when
  // the stream is closed, or when the client has fallen too far behind: it is then dropped (closed).
  virtual bool send(std::string_view event, std::string_view data, std::string_view id = {}) = 0;
  // Queues a shared frame. Unlike send(), a client beyond the queue bounds (events or bytes) is not closed:
  // its unsent frames are discarded and kOverflow returned, so the caller can resynchronise it (e.g. with a
  // snapshot once queued_bytes() is 0). A frame is always accepted into an empty queue, whatever its size.
  virtual SendResult send_frame(SseFrame frame) = 0;
  // Bytes accepted but not yet written to the socket (queued and in flight).
  virtual size_t queued_bytes() const = 0;
  // True once the client went away, was dropped, or the stream/server was closed.
  virtual bool closed() const = 0;
  virtual void close() = 0;
  // Runs once when the stream closes for any reason, on the thread that noticed it (an I/O thread, a
  // sender, or stop()): keep it short and non-blocking. If the stream is already closed it runs immediately.
  virtual void on_close(std::function<void()> callback) = 0;
};

struct Health {
  bool ok = true;
  nlohmann::json detail = nlohmann::json::object();
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";  // loopback unless the deployment says otherwise
  uint16_t port = 0;                       // 0: an ephemeral port, see Server::port()
  int io_threads = 2;
  int worker_threads = 4;                           // handler pool; handlers may block on I/O
  size_t max_body_bytes = 1 << 20;                  // larger bodies get 413
  size_t max_header_bytes = 16 * 1024;              // larger request heads get 431
  std::chrono::milliseconds read_timeout{10'000};   // to receive a whole request once it started (→ 408)
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive connection without a request (→ close)
  std::chrono::milliseconds write_timeout{30'000};  // to send a response
  std::chrono::milliseconds sse_keepalive{15'000};  // comment line sent on idle SSE streams
  size_t sse_max_queued_events = 1024;              // per client; beyond that the client is dropped
  size_t sse_max_queued_bytes = 8u << 20;           // per client, likewise (send_frame(): overflow)
  bool sse_gzip = true;  // gzip event streams for clients that accept it (one compression per shared frame)
  std::chrono::milliseconds shutdown_deadline{10'000};
  std::string content_security_policy = "default-src 'self'; frame-ancestors 'none'";
  // /healthz calls this (on a worker thread); unset means always healthy.
  std::function<Health()> health;
  // Registry for /metrics and the request metrics; nullptr means metrics::default_registry().
  metrics::Registry* metrics = nullptr;
};

struct StaticOptions {
  // Hashed bundles can use "public, max-age=31536000, immutable"; the default makes browsers revalidate,
  // which is cheap thanks to ETag/304.
  std::string cache_control = "no-cache";
  std::string index_file = "index.html";
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
