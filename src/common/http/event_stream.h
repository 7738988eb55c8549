// Server-Sent Events as a handler sees them: shareable pre-formatted frames and the stream interface a
// handler keeps to send() later (the connection side is in sse.h).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace fp::httpd {

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

}  // namespace fp::httpd
