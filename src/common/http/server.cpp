// The HTTP server's public face and its listening side: bind, accept, the built-in /healthz and /metrics,
// SSE hand-over bookkeeping and graceful stop. One connection's work is in session.cpp.
#include "common/http/server.h"

#include <boost/asio/post.hpp>
#include <exception>

#include "common/http/server_impl.h"
#include "common/http/sse.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace fp::httpd {

Status Server::Impl::start() {
  {
    std::lock_guard lock(mu);
    if (started) return make_error("http server: already started");
    started = true;
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.bind_address, ec);
  if (ec) return invalid_input("http server: bind address {:?}: {}", options.bind_address, ec.message());
  const tcp::endpoint ep(address, options.port);
  const std::string where = fmt::format("{}:{}", options.bind_address, options.port);
  if (acceptor.open(ep.protocol(), ec); ec)
    return make_error("http server: open {}: {}", where, ec.message());
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return make_error("http server: SO_REUSEADDR {}: {}", where, ec.message());
  }
  if (acceptor.bind(ep, ec); ec) return make_error("http server: bind {}: {}", where, ec.message());
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return make_error("http server: listen {}: {}", where, ec.message());
  }
  const uint16_t port = acceptor.local_endpoint(ec).port();
  if (ec) return make_error("http server: local endpoint: {}", ec.message());
  {
    std::lock_guard lock(mu);
    bound_port = port;
  }

  work.emplace(ioc.get_executor());
  accept();
  try {
    for (int i = 0; i < std::max(1, options.io_threads); ++i) io_threads.emplace_back([this] { ioc.run(); });
  } catch (const std::system_error& e) {
    stop(std::chrono::milliseconds(0));
    return make_error("http server: starting I/O threads: {}", e.what());
  }
  log::info("http", "listening on {}:{}", options.bind_address, bound_port);
  return ok_status();
}

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;  // stopped
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning on a failing accept.
      log::warn("http", "accept failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(mu);
      if (stopping) return;  // the socket closes as it goes out of scope
      const size_t cap = std::max<size_t>(1, options.max_connections);
      if (open_connections >= 2 * cap) {
        accept();  // too many even to answer: the socket closes as it goes out of scope
        return;
      }
      session = make_session(this, std::move(socket), open_connections >= cap);
      sessions.emplace(session.get(), session);
      ++open_connections;
    }
    start_session(session);
    accept();
  });
}

bool Server::Impl::reserve_stream() {
  std::lock_guard lock(mu);
  if (open_streams >= options.max_event_streams) return false;
  ++open_streams;
  return true;
}

std::shared_ptr<SseStream> Server::Impl::open_sse(tcp::socket socket, std::string head, bool gzip) {
  std::lock_guard lock(mu);
  if (stopping) {
    --open_streams;
    boost::system::error_code ignored;  // refusing the stream; the close result does not matter
    socket.close(ignored);
    return nullptr;
  }
  ++open_connections;
  SseConfig config{options.sse_keepalive, options.write_timeout, options.sse_max_queued_events,
                   options.sse_max_queued_bytes, gzip};
  auto stream = start_sse(std::move(socket), std::move(head), config, [this] {
    std::lock_guard l(mu);
    --open_connections;
    --open_streams;
    cv.notify_all();
  });
  // Forget streams that already ended so the list stays proportional to the live clients.
  std::erase_if(streams, [](const std::weak_ptr<SseStream>& w) {
    auto s = w.lock();
    return !s || s->closed();
  });
  streams.push_back(stream);
  return stream;
}

void Server::Impl::record(const std::string& route, const std::string& method, int status, double seconds) {
  registry
      ->counter("http_requests_total", "HTTP requests answered, by route pattern, method and status.",
                {{"route", route}, {"method", method}, {"status", std::to_string(status)}})
      .inc();
  registry
      ->histogram("http_request_duration_seconds",
                  "Time from the start of a request to its answer being sent.",
                  {{"route", route}, {"method", method}})
      .observe(seconds);
}

void Server::Impl::install_builtin_routes() {
  // Built-ins are ordinary routes, so they get request metrics and cannot be shadowed silently.
  (void)router.add("GET", "/healthz", [this](const Request&) {
    Health h;
    // A health check that throws is reporting an unhealthy dependency: answer 503, not 500.
    try {
      if (options.health) h = options.health();
    } catch (const std::exception& e) {
      h = Health{false, {{"error", e.what()}}};
    } catch (...) {
      h = Health{false, {{"error", "health check threw"}}};
    }
    auto r = Response::json(h.ok ? 200 : 503, {{"status", h.ok ? "ok" : "fail"}, {"detail", h.detail}});
    r.header("Cache-Control", "no-store");
    return r;
  });
  (void)router.add("GET", "/metrics", [this](const Request&) {
    if (options.before_metrics) options.before_metrics();
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = registry->render();
    r.header("Cache-Control", "no-store");
    return r;
  });
}

void Server::Impl::stop(std::chrono::milliseconds deadline) {
  std::vector<std::weak_ptr<Session>> live_sessions;
  std::vector<std::weak_ptr<SseStream>> live_streams;
  {
    std::lock_guard lock(mu);
    if (stopping) return;
    stopping = true;
    if (!started) return;
    for (auto& [ptr, weak] : sessions) live_sessions.push_back(weak);
    live_streams.swap(streams);
  }
  asio::post(acceptor.get_executor(), [this] {
    boost::system::error_code ignored;  // closing a listening socket cannot fail in a way we could act on
    acceptor.close(ignored);
    accept_retry.cancel();
  });
  for (auto& weak : live_sessions) {
    if (auto s = weak.lock()) notify_server_stop(s);
  }
  for (auto& weak : live_streams) {
    if (auto s = weak.lock()) s->close();
  }
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, deadline, [this] { return open_connections == 0; })) {
      log::warn("http", "stop: {} connection(s) still open after {} ms; closing them", open_connections,
                deadline.count());
    }
  }
  work.reset();
  ioc.stop();
  for (auto& t : io_threads) t.join();
  io_threads.clear();
  // A handler still running past the deadline is waited for: it cannot be interrupted safely.
  workers.stop();
  workers.join();
  log::info("http", "stopped");
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->install_builtin_routes();
}

Server::~Server() {
  stop();
}

Status Server::route(std::string method, std::string pattern, Handler handler) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started) return make_error("route {} {}: the server is already started", method, pattern);
  }
  return impl_->router.add(std::move(method), std::move(pattern), std::move(handler));
}

Status Server::serve_static(std::string url_prefix, std::filesystem::path directory, StaticOptions options) {
  std::error_code ec;
  auto root = std::filesystem::canonical(directory, ec);
  if (ec || !std::filesystem::is_directory(root, ec)) {
    return invalid_input("static files: {:?} is not a directory", directory.string());
  }
  while (!url_prefix.empty() && url_prefix.back() == '/') url_prefix.pop_back();
  const std::string pattern = url_prefix + "/{path*}";
  return route("GET", pattern, [root = std::move(root), options = std::move(options)](const Request& req) {
    const auto path = req.params.find("path");
    return serve_file(root, path == req.params.end() ? std::string{} : path->second, req, options);
  });
}

Status Server::start() {
  return impl_->start();
}

uint16_t Server::port() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bound_port;
}

void Server::stop() {
  impl_->stop(impl_->options.shutdown_deadline);
}
void Server::stop(std::chrono::milliseconds deadline) {
  impl_->stop(deadline);
}

Status Server::run_until_shutdown() {
  bool started;
  {
    std::lock_guard lock(impl_->mu);
    started = impl_->started;
  }
  if (!started) FP_CHECK(start(), "http server");
  while (!shutdown::wait_for(std::chrono::milliseconds(1000))) {
  }
  log::info("http", "shutdown requested; draining connections");
  stop();
  return ok_status();
}

}  // namespace fp::httpd
