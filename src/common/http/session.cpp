// One HTTP connection of the server: reads requests with Beast's parser under size limits and deadlines,
// runs handlers on the worker pool, writes answers with the security headers, and hands a connection over
// to an SSE stream when a handler asks for one.
#include <array>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <sstream>

#include "common/http/server_impl.h"
#include "common/http/sse.h"
#include "common/log.h"

namespace fp::httpd {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool has_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(beast::string_view(k.data(), k.size()),
                       beast::string_view(name.data(), name.size()))) {
      return true;
    }
  }
  return false;
}

// Unknown methods share one label value so a scanner cannot blow up the metric's cardinality.
std::string method_label(http::verb v) {
  switch (v) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::post:
    case http::verb::put:
    case http::verb::patch:
    case http::verb::delete_:
    case http::verb::options:
      return std::string(http::to_string(v));
    default:
      return "other";
  }
}

Response invoke_handler(const Handler& handler, const Request& req) {
  try {
    return handler(req);
  } catch (const std::exception& e) {
    log::error("http", "handler {} {} threw: {}", req.method, req.route, e.what());
  } catch (...) {
    log::error("http", "handler {} {} threw a non-exception", req.method, req.route);
  }
  return Response::text(500, "internal server error\n");
}

}  // namespace

// One HTTP connection: reads requests, hands them to the worker pool and writes the answers. All members
// are used on the connection's strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl* server, tcp::socket socket, bool over_capacity)
      : server_(server),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        over_capacity_(over_capacity) {
    boost::system::error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    if (!ec) {
      remote_ip_ = ep.address().to_string();
      remote_port_ = ep.port();
    }
  }
  ~Session() {
    std::lock_guard lock(server_->mu);
    server_->sessions.erase(this);
    --server_->open_connections;
    server_->cv.notify_all();
  }

  tcp::socket::executor_type executor() { return socket_.get_executor(); }
  void start() { wait_for_request(); }

  // Called on the strand when the server stops: an idle or half-read connection is closed now; one with a
  // request in a handler or being written finishes it and then closes (keep-alive is off when stopping).
  void on_server_stop() {
    if (state_ == State::kIdle || state_ == State::kReading) close_now();
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosing };

  // Deadlines use our own timer rather than beast::tcp_stream's because the latter closes the socket on
  // expiry, which would make answering a stalled request with 408 impossible.
  void arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen = ++timer_gen_](boost::system::error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.cancel(ignored);  // pending operations complete with operation_aborted
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void wait_for_request() {
    state_ = State::kIdle;
    if (buffer_.size() > 0) {  // a pipelined request is already buffered
      read_request();
      return;
    }
    arm(server_->options.idle_timeout);
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->disarm();
                              if (ec) {
                                self->close_now();  // EOF, reset, idle timeout or server stop
                                return;
                              }
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  void read_request() {
    if (stopping()) {
      close_now();
      return;
    }
    state_ = State::kReading;
    started_ = Clock::now();
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    arm(server_->options.read_timeout);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       self->disarm();
                       self->on_read(ec);
                     });
  }

  void on_read(boost::system::error_code ec) {
    route_ = "unmatched";
    method_ = parser_->is_header_done() ? method_label(parser_->get().method()) : "other";
    path_.clear();
    if (ec == asio::error::operation_aborted && timed_out_) return send_error(408, "request timeout\n");
    if (ec == http::error::body_limit) return send_error(413, "request body too large\n");
    if (ec == http::error::header_limit) return send_error(431, "request header fields too large\n");
    if (ec == http::error::end_of_stream || (ec && ec.category() != kHttpErrors)) {
      return close_now();  // the peer went away, or the server is stopping
    }
    if (ec) return send_error(400, "bad request\n");  // any other parse error
    dispatch(parser_->release());
  }

  void dispatch(http::request<http::string_body> msg) {
    keep_alive_ = msg.keep_alive();
    is_head_ = msg.method() == http::verb::head;
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const std::string_view target(msg.target().data(), msg.target().size());
    const auto qmark = target.find('?');
    auto segments = split_path(target.substr(0, qmark));
    auto query = parse_query(qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1));
    if (!segments || !query) return send_error(400, "malformed request target\n");
    for (const auto& s : *segments) req.path += "/" + s;
    if (req.path.empty()) req.path = "/";
    path_ = req.path;
    req.query = std::move(*query);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    const auto accept_encoding = msg[http::field::accept_encoding];
    accepts_gzip_ =
        accepts_encoding(std::string_view(accept_encoding.data(), accept_encoding.size()), "gzip");
    req.body = std::move(msg.body());
    req.remote_address = remote_ip_;
    req.remote_port = remote_port_;
    // Before routing, so a refused name learns nothing about the routes either.
    const auto host = msg[http::field::host];
    if (!host_allowed(std::string_view(host.data(), host.size()), server_->options.bind_address,
                      server_->allowed_hosts)) {
      return send_error(421, "misdirected request: this server does not answer for that Host\n");
    }
    if (over_capacity_) return send_busy("too many connections; retry shortly\n");

    auto match = server_->router.match(req.method, *segments);
    if (match.outcome == Router::Outcome::kNotFound) return respond(Response::text(404, "not found\n"));
    if (match.outcome == Router::Outcome::kMethodNotAllowed) {
      return respond(Response::text(405, "method not allowed\n").header("Allow", match.allow));
    }
    route_ = *match.pattern;
    req.route = *match.pattern;
    req.params = std::move(match.params);
    state_ = State::kHandling;
    // Handlers may block, so they run on the worker pool; the answer comes back to this strand.
    asio::post(server_->workers,
               [self = shared_from_this(), handler = match.handler, req = std::move(req)]() mutable {
                 Response resp = invoke_handler(*handler, req);
                 asio::post(self->socket_.get_executor(),
                            [self, resp = std::move(resp)]() mutable { self->respond(std::move(resp)); });
               });
  }

  void send_error(int status, std::string body) {
    keep_alive_ = false;
    respond(Response::text(status, std::move(body)));
  }
  void send_busy(std::string body) {
    keep_alive_ = false;
    respond(Response::text(503, std::move(body)).header("Retry-After", "1"));
  }

  void respond(Response resp) {
    if (resp.on_event_stream && resp.status == 200 && !is_head_) {
      if (!server_->reserve_stream()) return send_busy("too many event streams; retry shortly\n");
      return take_over_as_sse(std::move(resp));
    }
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(resp.status), 11);
    res->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->insert(k, v);
    add_security_headers(*res, resp.headers);
    const bool bodiless =
        resp.status == 204 || resp.status == 304 || (resp.status >= 100 && resp.status < 200);
    if (bodiless) resp.body.clear();
    const size_t body_size = resp.body.size();
    res->body() = std::move(resp.body);
    res->keep_alive(keep_alive_ && !stopping());
    res->prepare_payload();
    // HEAD: the headers of the GET answer (its Content-Length included), without the body.
    if (is_head_) res->body().clear();
    status_ = resp.status;
    bytes_ = is_head_ ? 0 : body_size;
    state_ = State::kWriting;
    arm(server_->options.write_timeout);
    http::async_write(socket_, *res, [self = shared_from_this(), res](boost::system::error_code ec, size_t) {
      self->disarm();
      self->finish_request();
      if (ec || !res->keep_alive()) return self->close_gracefully();
      self->wait_for_request();
    });
  }

  template <typename Message>
  void add_security_headers(Message& res, const Headers& overrides) {
    const std::pair<const char*, const std::string*> defaults[] = {
        {"X-Content-Type-Options", &kNosniff},
        {"X-Frame-Options", &kDeny},
        {"Referrer-Policy", &kReferrer},
        {"Content-Security-Policy", &server_->options.content_security_policy},
    };
    for (const auto& [name, value] : defaults) {
      if (!has_header(overrides, name) && !value->empty()) res.set(name, *value);
    }
  }

  void take_over_as_sse(Response resp) {
    http::response<http::empty_body> head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
    const bool gzip = server_->options.sse_gzip && accepts_gzip_;
    if (gzip) head.set(http::field::content_encoding, "gzip");
    head.set(http::field::vary, "Accept-Encoding");
    for (auto& [k, v] : resp.headers) head.insert(k, v);
    add_security_headers(head, resp.headers);
    head.keep_alive(true);
    // No Content-Length and no chunking: the body ends when the connection closes, as SSE expects.
    std::ostringstream os;
    os << head.base();
    status_ = 200;
    bytes_ = 0;
    finish_request();
    auto stream = server_->open_sse(std::move(socket_), os.str(), gzip);
    state_ = State::kClosing;
    if (!stream) return;  // the server is stopping; the socket was closed
    asio::post(server_->workers, [stream, on_open = std::move(resp.on_event_stream)] {
      try {
        on_open(stream);
      } catch (const std::exception& e) {
        log::error("http", "event stream handler threw: {}", e.what());
        stream->close();
      } catch (...) {
        log::error("http", "event stream handler threw a non-exception");
        stream->close();
      }
    });
  }

  // Metrics and the access log, once per answered request.
  void finish_request() {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    server_->record(route_, method_, status_, seconds);
    if (log::enabled(log::Level::kDebug)) {
      log::emit(log::Level::kDebug, "http", fmt::format("{} {} {}", method_, path_, status_),
                {{"method", method_},
                 {"path", path_},
                 {"route", route_},
                 {"status", status_},
                 {"duration_ms", seconds * 1000.0},
                 {"bytes", bytes_},
                 {"remote", remote_ip_}});
    }
  }

  // After an error answer the client may still be sending (say, the rest of a 2 MiB body). Closing with
  // unread data makes the kernel send RST, which can destroy our answer before the client reads it; so
  // half-close, drain briefly, then close.
  void close_gracefully() {
    state_ = State::kClosing;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(std::chrono::milliseconds(1000));
    drain();
  }
  void drain() {
    socket_.async_read_some(asio::buffer(drain_buf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t) {
                              if (ec) {
                                self->disarm();
                                return self->close_now();
                              }
                              self->drain();
                            });
  }

  void close_now() {
    state_ = State::kClosing;
    disarm();
    boost::system::error_code ignored;  // the socket may already be closed or reset; nothing left to do
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  bool stopping() {
    std::lock_guard lock(server_->mu);
    return server_->stopping;
  }

  static inline const boost::system::error_category& kHttpErrors =
      http::make_error_code(http::error::end_of_stream).category();
  static inline const std::string kNosniff = "nosniff";
  static inline const std::string kDeny = "DENY";
  static inline const std::string kReferrer = "no-referrer";

  Server::Impl* server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 4096> drain_buf_{};
  State state_ = State::kIdle;
  const bool over_capacity_;  // answer 503 and close: the server was at max_connections when it accepted
  bool keep_alive_ = false;
  bool is_head_ = false;
  bool accepts_gzip_ = false;  // the request's Accept-Encoding allows gzip
  std::string remote_ip_;
  uint16_t remote_port_ = 0;
  // The request being answered, for metrics and the access log.
  Clock::time_point started_;
  std::string route_, method_, path_;
  int status_ = 0;
  size_t bytes_ = 0;
};

std::shared_ptr<Session> make_session(Server::Impl* server, tcp::socket socket, bool over_capacity) {
  return std::make_shared<Session>(server, std::move(socket), over_capacity);
}

void start_session(const std::shared_ptr<Session>& session) {
  asio::post(session->executor(), [session] { session->start(); });
}

void notify_server_stop(const std::shared_ptr<Session>& session) {
  asio::post(session->executor(), [session] { session->on_server_stop(); });
}

}  // namespace fp::httpd
