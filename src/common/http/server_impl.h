// The HTTP server's internals shared by server.cpp (listening, built-in routes, stop) and session.cpp (one
// connection's request/response loop). Not part of the public API: include common/http/server.h.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/http/host_check.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/metrics.h"

namespace fp::httpd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;  // session.cpp

struct Server::Impl {
  explicit Impl(ServerOptions o)
      : options(std::move(o)),
        registry(options.metrics ? options.metrics : &metrics::default_registry()),
        allowed_hosts(options.allowed_hosts.empty() ? allowed_hosts_from_env() : options.allowed_hosts),
        workers(static_cast<size_t>(std::max(1, options.worker_threads))) {}

  // Shared state first: sessions deregister here while the io_context below destroys them.
  ServerOptions options;
  metrics::Registry* registry;
  std::vector<std::string> allowed_hosts;
  Router router;
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool stopping = false;
  size_t open_connections = 0;  // HTTP sessions plus SSE connections
  size_t open_streams = 0;      // SSE connections, reserved before the hand-over
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::vector<std::weak_ptr<SseStream>> streams;
  uint16_t bound_port = 0;

  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  std::vector<std::thread> io_threads;
  asio::thread_pool workers;  // destroyed (joined) before the io_context the sessions it holds belong to

  Status start();
  void stop(std::chrono::milliseconds deadline);
  void accept();
  void install_builtin_routes();
  // A slot for one more event stream (false: at max_event_streams); open_sse() takes it over, and gives it
  // back when the stream ends or cannot open.
  bool reserve_stream();
  std::shared_ptr<SseStream> open_sse(tcp::socket socket, std::string head, bool gzip);
  void record(const std::string& route, const std::string& method, int status, double seconds);
};

// A new connection's session, registered by the caller under Impl::mu. An `over_capacity` session answers
// its request with 503 and closes.
std::shared_ptr<Session> make_session(Server::Impl* server, tcp::socket socket, bool over_capacity);
// Starts reading requests, on the session's strand.
void start_session(const std::shared_ptr<Session>& session);
// Tells the session the server is stopping, on its strand: an idle connection closes now, a busy one after
// its answer.
void notify_server_stop(const std::shared_ptr<Session>& session);

}  // namespace fp::httpd
