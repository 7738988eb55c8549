#include "common/http/sse.h"

#include <zlib.h>

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

// Frames handed to the socket in one gathered write (writev): a viewer that fell a few frames behind
// catches up in one system call instead of one per event.
constexpr size_t kMaxFramesPerWrite = 64;

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
  std::vector<SseFrame> in_flight;  // the frames being written (strand only); they keep their buffers alive
  std::vector<asio::const_buffer> buffers;
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
      // A gzip member header (no name, no mtime, unknown OS); the member never ends: the stream ends when
      // the connection closes, and the client decodes each sync-flushed piece as it arrives.
      if (config_.gzip) head.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
      auto frame = std::make_shared<const SseFrameData>(std::move(head));
      queued_bytes_ += frame->text().size();
      head_ = frame;
      queue_.push_back(std::move(frame));
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
    auto r = enqueue(sse_frame(event, data, id), Bound::kCloseWhenFull);
    return r == SendResult::kQueued;
  }

  SendResult send_frame(SseFrame frame) override {
    if (!frame) return closed() ? SendResult::kClosed : SendResult::kQueued;
    return enqueue(std::move(frame), Bound::kDiscardWhenFull);
  }

  size_t queued_bytes() const override {
    std::lock_guard lock(mu_);
    return queued_bytes_;
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
  enum class Bound { kNone, kCloseWhenFull, kDiscardWhenFull };

  // What goes on the wire for a frame: the head as it is, events deflated on a gzip stream.
  const std::string& bytes(const SseFrame& f) const {
    return config_.gzip && f != head_ ? f->deflated() : f->text();
  }

  // mu_ held. Only a non-empty queue can be full: one frame larger than the byte bound (a snapshot) still
  // goes out to a client that has caught up.
  bool full(size_t incoming) const {
    if (queue_.empty()) return false;
    return queue_.size() >= config_.max_queued_events ||
           queued_bytes_ - in_flight_bytes_ + incoming > config_.max_queued_bytes;
  }

  SendResult enqueue(SseFrame frame, Bound bound) {
    // Outside the lock: the first gzip stream that gets a frame compresses it, for all of them.
    if (config_.gzip && frame->deflated().empty()) {
      close_because("cannot deflate the event");
      return SendResult::kClosed;
    }
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard lock(mu_);
      if (!conn_) return SendResult::kClosed;
      if (bound != Bound::kNone && full(bytes(frame).size())) {
        if (bound == Bound::kDiscardWhenFull) {
          // Frames are whole events, so dropping the unsent ones keeps the stream well-formed; the frames
          // being written finish. The HTTP response head is no event: while it waits for its first write it
          // stays, or the client would get a body without a head.
          const bool keep_head = !queue_.empty() && queue_.front() == head_;
          for (const auto& f : queue_) queued_bytes_ -= bytes(f).size();
          queue_.clear();
          if (keep_head) {
            queued_bytes_ += head_->text().size();
            queue_.push_back(head_);
          }
          return SendResult::kOverflow;
        }
        // fall through to drop the slow client outside the lock
      } else {
        queued_bytes_ += bytes(frame).size();
        queue_.push_back(std::move(frame));
        if (writing_) return SendResult::kQueued;
        writing_ = true;
        conn = conn_;
      }
    }
    if (!conn) {
      close_because("client too slow, queue full");
      return SendResult::kClosed;
    }
    asio::post(conn->socket.get_executor(), [self = shared_from_this(), conn] { self->write_next(conn); });
    return SendResult::kQueued;
  }

  // Strand only.
  void write_next(const std::shared_ptr<Connection>& conn) {
    conn->in_flight.clear();
    conn->buffers.clear();
    {
      std::lock_guard lock(mu_);
      queued_bytes_ -= in_flight_bytes_;
      in_flight_bytes_ = 0;
      if (!conn_ || queue_.empty()) {
        writing_ = false;
        return;
      }
      while (!queue_.empty() && conn->in_flight.size() < kMaxFramesPerWrite) {
        in_flight_bytes_ += bytes(queue_.front()).size();
        conn->in_flight.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (const auto& f : conn->in_flight) conn->buffers.emplace_back(asio::buffer(bytes(f)));
    conn->write_started = Clock::now();
    asio::async_write(conn->socket, conn->buffers,
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
      if (idle) {
        static const SseFrame keepalive = std::make_shared<const SseFrameData>(": keepalive\n\n");
        self->enqueue(keepalive, Bound::kNone);
      }
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
      queued_bytes_ = in_flight_bytes_;
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
  std::deque<SseFrame> queue_;
  SseFrame head_;               // the HTTP response head, first in queue_ until written
  size_t queued_bytes_ = 0;     // queue_ plus the frames in flight
  size_t in_flight_bytes_ = 0;  // handed to the socket by write_next, not yet completed
  bool writing_ = false;        // a write_next chain is scheduled or running
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
  out.reserve(data.size() + event.size() + id.size() + 24);
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

const std::string& SseFrameData::deflated() const {
  std::call_once(deflate_once_, [this] {
    z_stream z{};
    // Raw deflate (no zlib wrapper: the stream's gzip header precedes the first piece), fastest level: a
    // frame is compressed once for every viewer, a multi-megabyte snapshot on the fan-out thread.
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      log::error("http", "sse: deflateInit2 failed");
      return;
    }
    std::string out(deflateBound(&z, text_.size()) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text_.data()));
    z.avail_in = static_cast<uInt>(text_.size());
    size_t used = 0;
    int rc = Z_OK;
    // A sync flush ends the piece on a byte boundary without a final block, so pieces concatenate. zlib
    // wants the call repeated while it fills the whole output buffer.
    do {
      if (used == out.size()) out.resize(out.size() * 2);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      z.avail_out = static_cast<uInt>(out.size() - used);
      rc = deflate(&z, Z_SYNC_FLUSH);
      used = out.size() - z.avail_out;
    } while (rc == Z_OK && z.avail_out == 0);
    // Z_BUF_ERROR on a repeated call: the previous one had filled the buffer exactly and finished.
    if ((rc == Z_OK || rc == Z_BUF_ERROR) && z.avail_in == 0) {
      out.resize(used);
      deflated_ = std::move(out);
    } else {
      log::error("http", "sse: deflate failed ({})", rc);
    }
    deflateEnd(&z);
  });
  return deflated_;
}

SseFrame sse_frame(std::string_view event, std::string_view data, std::string_view id) {
  return std::make_shared<const SseFrameData>(format_sse_event(event, data, id));
}

std::shared_ptr<SseStream> start_sse(tcp::socket socket, std::string head, SseConfig config,
                                     std::function<void()> on_finished) {
  auto conn = std::make_shared<Connection>(std::move(socket), std::move(on_finished));
  auto stream = std::make_shared<Stream>(std::move(conn), config);
  stream->start(std::move(head));
  return stream;
}

}  // namespace fp::httpd
