#include "common/http_sse.h"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <mutex>
#include <vector>

#include "common/log.h"

namespace fp::httpd {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The network side of a stream. Separate from the SseStream handle because users may keep handles after
// the server has stopped and its io_context is gone: the handle then no longer owns any socket.
struct Connection {
  Connection(tcp::socket s, std::function<void()> finished)
      : socket(std::move(s)), timer(socket.get_executor()), on_finished(std::move(finished)) {}
  ~Connection() {
    if (on_finished) on_finished();
  }
  tcp::socket socket;
  asio::steady_timer timer;
  std::array<char, 256> read_buf{};
  std::string in_flight;  // the chunk being written (strand only)
  Clock::time_point write_started{};
  std::function<void()> on_finished;
};

class Stream final : public SseStream, public std::enable_shared_from_this<Stream> {
 public:
  Stream(std::shared_ptr<Connection> conn, SseConfig config) : conn_(std::move(conn)), config_(config) {}

  void start(std::string head) {
    auto conn = conn_;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(head));
      writing_ = true;
    }
    auto self = shared_from_this();
    asio::post(conn->socket.get_executor(), [self, conn] {
      self->write_next(conn);
      self->watch_disconnect(conn);
      self->arm_keepalive(conn);
    });
  }

  bool send(std::string_view event, std::string_view data, std::string_view id) override {
    return enqueue(format_sse_event(event, data, id), /*bounded=*/true);
  }

  bool closed() const override {
    std::lock_guard lock(mu_);
    return conn_ == nullptr;
  }

  void close() override { close_because("closed"); }

  void on_close(std::function<void()> callback) override {
    {
      std::lock_guard lock(mu_);
      if (conn_) {
        on_close_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

 private:
  bool enqueue(std::string chunk, bool bounded) {
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard lock(mu_);
      if (!conn_) return false;
      if (bounded && queue_.size() >= config_.max_queued_events) {
        conn = nullptr;  // fall through to drop the slow client outside the lock
      } else {
        queue_.push_back(std::move(chunk));
        if (writing_) return true;
        writing_ = true;
        conn = conn_;
      }
    }
    if (!conn) {
      close_because("client too slow, queue full");
      return false;
    }
    asio::post(conn->socket.get_executor(), [self = shared_from_this(), conn] { self->write_next(conn); });
    return true;
  }

  // Strand only.
  void write_next(const std::shared_ptr<Connection>& conn) {
    {
      std::lock_guard lock(mu_);
      if (!conn_ || queue_.empty()) {
        writing_ = false;
        return;
      }
      conn->in_flight = std::move(queue_.front());
      queue_.pop_front();
    }
    conn->write_started = Clock::now();
    asio::async_write(conn->socket, asio::buffer(conn->in_flight),
                      [self = shared_from_this(), conn](boost::system::error_code ec, size_t) {
                        conn->write_started = {};
                        if (ec) {
                          self->close_because("write failed: " + ec.message());
                          return;
                        }
                        self->write_next(conn);
                      });
  }

  // An SSE client sends nothing after its request, so a completed read means it went away (EOF/reset).
  void watch_disconnect(const std::shared_ptr<Connection>& conn) {
    conn->socket.async_read_some(asio::buffer(conn->read_buf),
                                 [self = shared_from_this(), conn](boost::system::error_code ec, size_t) {
                                   if (ec) {
                                     self->close_because("client disconnected");
                                     return;
                                   }
                                   self->watch_disconnect(conn);  // stray bytes are ignored
                                 });
  }

  void arm_keepalive(const std::shared_ptr<Connection>& conn) {
    conn->timer.expires_after(config_.keepalive);
    conn->timer.async_wait([self = shared_from_this(), conn](boost::system::error_code ec) {
      if (ec) return;  // cancelled: the stream closed
      // A write stuck this long means the client stopped reading with the TCP window full.
      if (conn->write_started != Clock::time_point{} &&
          Clock::now() - conn->write_started > self->config_.write_timeout) {
        self->close_because("write timed out");
        return;
      }
      // The comment keeps proxies from timing the stream out and surfaces dead peers as write errors.
      bool idle;
      {
        std::lock_guard lock(self->mu_);
        idle = self->queue_.empty() && !self->writing_;
      }
      if (idle) self->enqueue(": keepalive\n\n", /*bounded=*/false);
      self->arm_keepalive(conn);
    });
  }

  void close_because(std::string_view why) {
    std::shared_ptr<Connection> conn;
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mu_);
      if (!conn_) return;
      conn = std::move(conn_);
      callbacks.swap(on_close_);
      queue_.clear();
    }
    log::debug("http", "sse stream closed: {}", why);
    asio::post(conn->socket.get_executor(), [conn] {
      boost::system::error_code ignored;  // closing a socket the peer already reset may fail; nothing to do
      conn->timer.cancel();
      conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
      conn->socket.close(ignored);
    });
    for (auto& cb : callbacks) cb();
  }

  mutable std::mutex mu_;
  std::shared_ptr<Connection> conn_;  // null once closed
  std::deque<std::string> queue_;
  bool writing_ = false;  // a write_next chain is scheduled or running
  std::vector<std::function<void()>> on_close_;
  const SseConfig config_;
};

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  out += '\n';
}

}  // namespace

std::string format_sse_event(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  if (!id.empty()) append_field(out, "id", id);
  if (!event.empty()) append_field(out, "event", event);
  // Lines end at \n, \r\n or \r in the SSE grammar; each becomes its own data: line.
  size_t start = 0;
  while (true) {
    const auto end = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + ((data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1);
  }
  out += '\n';
  return out;
}

std::shared_ptr<SseStream> start_sse(tcp::socket socket, std::string head, SseConfig config,
                                     std::function<void()> on_finished) {
  auto conn = std::make_shared<Connection>(std::move(socket), std::move(on_finished));
  auto stream = std::make_shared<Stream>(std::move(conn), config);
  stream->start(std::move(head));
  return stream;
}

}  // namespace fp::httpd
