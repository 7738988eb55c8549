#include "common/net.h"

#include <gtest/gtest.h>

namespace fp {
namespace {

TEST(HostPortTest, ParsesAddresses) {
  EXPECT_EQ(host_port("localhost:9092", 1), (std::pair<std::string, int>{"localhost", 9092}));
  EXPECT_EQ(host_port("a:1,b:2", 1), (std::pair<std::string, int>{"a", 1}));
  EXPECT_EQ(host_port("http://h:8083/x", 1), (std::pair<std::string, int>{"h", 8083}));
  EXPECT_EQ(host_port("https://s3.amazonaws.com", 443),
            (std::pair<std::string, int>{"s3.amazonaws.com", 443}));
  EXPECT_EQ(host_port("[::1]:9000", 1), (std::pair<std::string, int>{"::1", 9000}));
}

}  // namespace
}  // namespace fp
