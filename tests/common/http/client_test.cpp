#include "common/http/client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace fp::http {
namespace {

// A loopback port nothing listens on: bound (so the kernel picks a free one), then closed again.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(HttpClientTest, ARefusedConnectionIsKnownByItsCodeNotItsText) {
  auto r = get("http://127.0.0.1:" + std::to_string(closed_port()) + "/healthz", std::chrono::seconds(2));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_connection_refused(r.error()));
  EXPECT_TRUE(is_connection_refused(r.error().context("probe")));
  EXPECT_TRUE(r.error().transient());
  // The text alone decides nothing.
  EXPECT_FALSE(is_connection_refused(Error("GET x: Couldn't connect to server", Error::Kind::kTransient)));
}

}  // namespace
}  // namespace fp::http
