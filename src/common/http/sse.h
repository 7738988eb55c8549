// Server-Sent Events connections for the HTTP server (internal). A stream owns its socket once the server
// hands the connection over; all network work happens on the socket's strand, so send() from any thread
// only appends to a bounded queue and never blocks.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/http/event_stream.h"

namespace fp::httpd {

struct SseConfig {
  std::chrono::milliseconds keepalive{15'000};
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_queued_events = 1024;
  size_t max_queued_bytes = 8u << 20;
  bool gzip = false;  // the head says Content-Encoding: gzip; events go out as their frames' deflated()
};

// Formats one event in the text/event-stream framing. CR/LF in event and id are dropped (they would end
// the field early and let data inject fields); data is split into one "data:" line per line.
std::string format_sse_event(std::string_view event, std::string_view data, std::string_view id);

// Starts an SSE stream on `socket`: writes `head` (the HTTP response head; with config.gzip followed by a
// gzip member header), then queued events and keep-alive comments. `on_finished` runs when the connection's
// resources are released (after close).
std::shared_ptr<SseStream> start_sse(boost::asio::ip::tcp::socket socket, std::string head, SseConfig config,
                                     std::function<void()> on_finished);

}  // namespace fp::httpd
