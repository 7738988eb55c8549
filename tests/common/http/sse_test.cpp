// SseStream on its own, driven by an io_context the test runs by hand, so frames can be queued before the
// stream's first write happens.
#include "common/http/sse.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <string>

namespace fp::httpd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

TEST(SseStreamTest, OverflowBeforeTheFirstWriteKeepsTheResponseHead) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();

  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
  SseConfig config;
  config.max_queued_bytes = 1024;
  auto stream = start_sse(std::move(server), head, config, [] {});
  // The io_context has not run: the head is still queued when the backlog overflows.
  const auto frame = sse_frame("big", std::string(800, 'p'));
  EXPECT_EQ(stream->send_frame(frame), SseStream::SendResult::kQueued);
  EXPECT_EQ(stream->send_frame(frame), SseStream::SendResult::kOverflow);
  EXPECT_EQ(stream->send_frame(sse_frame("after", "ok")), SseStream::SendResult::kQueued);
  io.run_for(std::chrono::milliseconds(200));

  std::string got(4096, '\0');
  client.non_blocking(true);
  boost::system::error_code ec;
  const size_t n = client.read_some(asio::buffer(got), ec);
  ASSERT_FALSE(ec) << ec.message();
  got.resize(n);
  EXPECT_EQ(got, head + "event: after\ndata: ok\n\n");
  stream->close();
  io.run_for(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace fp::httpd
