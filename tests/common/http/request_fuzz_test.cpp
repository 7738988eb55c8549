// The HTTP side on hostile requests: the path and query decoders on any bytes, and a live server fed mutated
// requests over raw sockets. Every connection gets an HTTP answer or is closed; the server still serves
// afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/http/client.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/metrics.h"
#include "fuzz.h"

namespace fp::httpd {
namespace {

using namespace std::chrono_literals;

TEST(HttpRequestFuzz, PathAndQueryDecodersTakeAnyBytes) {
  const std::vector<std::string> samples = {"/api/vehicles/7/trips", "from=2024-01-01&tag=a+b&tag=%2F",
                                            "/a%2Fb/../c"};
  const std::vector<std::string> dict = {"%", "%2", "%zz", "%00", "/", "..", "+", "=", "&", "?"};
  const size_t n = fuzz::run(samples, dict, [](const std::string& input) {
    // One segment per '/' of the raw path (escapes decode inside their segment).
    if (auto segs = split_path(input); segs && input != "/") {
      EXPECT_EQ(segs->size(), static_cast<size_t>(std::count(input.begin(), input.end(), '/')));
    }
    (void)parse_query(input);
  });
  EXPECT_GT(n, 10u);
}

// Sends `bytes` on a new connection, half-closes, and reads the answer until the server closes (or 3 s).
std::string exchange(uint16_t port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "socket failed";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    const auto until = std::chrono::steady_clock::now() + 3s;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const ssize_t got = recv(fd, buf, sizeof buf, 0);
      if (got <= 0) break;
      out.append(buf, static_cast<size_t>(got));
    }
  }
  close(fd);
  return out;
}

TEST(HttpRequestFuzz, AServerAnswersOrClosesEveryMalformedRequestAndKeepsServing) {
  metrics::Registry registry;
  ServerOptions opts;
  opts.port = 0;
  opts.metrics = &registry;
  opts.read_timeout = 300ms;
  opts.max_body_bytes = 4096;
  Server server(opts);
  ASSERT_TRUE(server.post("/echo/{name}", [](const Request& r) { return Response::text(200, r.body); }).ok());
  ASSERT_TRUE(server.start().ok());
  const std::vector<std::string> samples = {
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "POST /echo/x?y=1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
      "POST /echo/z HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "GET /metrics HTTP/1.0\r\n\r\n"};
  const std::vector<std::string> dict = {"\r\n",
                                         ": ",
                                         "Content-Length: 99999999999\r\n",
                                         "Transfer-Encoding: chunked\r\n",
                                         "Host: ",
                                         "HTTP/1.1",
                                         "%",
                                         " ",
                                         "\n"};
  size_t answered = 0;
  const size_t n = fuzz::run(samples, dict, [&](const std::string& input) {
    const std::string got = exchange(server.port(), input);
    // An answer, if any, is an HTTP response.
    if (!got.empty()) {
      EXPECT_EQ(got.rfind("HTTP/1.1 ", 0), 0u) << fuzz::printable(got, 200);
      ++answered;
    }
  });
  EXPECT_GT(n, 10u);
  EXPECT_GT(answered, 0u);
  auto health = http::get(fmt::format("http://127.0.0.1:{}/healthz", server.port()), 5s);
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace fp::httpd
