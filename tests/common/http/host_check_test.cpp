#include "common/http/host_check.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace fp::httpd {
namespace {

TEST(HostCheck, LocalhostAndTheBoundAddressPassNamesDoNot) {
  const std::vector<std::string> none;
  EXPECT_TRUE(host_allowed("localhost", "127.0.0.1", none));
  EXPECT_TRUE(host_allowed("localhost:18050", "127.0.0.1", none));
  EXPECT_TRUE(host_allowed("127.0.0.1:18050", "127.0.0.1", none));
  EXPECT_TRUE(host_allowed("[::1]:8080", "127.0.0.1", none));  // loopback to a loopback bind
  EXPECT_FALSE(host_allowed("example.org", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("127.0.0.1.nip.io", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("192.168.1.5", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed(":80", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("[::1", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("[::1]x", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("localhost:http", "127.0.0.1", none));
  EXPECT_FALSE(host_allowed("localhost:123456", "127.0.0.1", none));
}

TEST(HostCheck, AWildcardBindTakesAnyAddressAndListedNames) {
  EXPECT_TRUE(host_allowed("192.168.1.5:80", "0.0.0.0", {}));
  EXPECT_TRUE(host_allowed("[fe80::1]", "::", {}));
  EXPECT_FALSE(host_allowed("fleet.example", "0.0.0.0", {}));
  EXPECT_TRUE(host_allowed("FLEET.example:443", "0.0.0.0", {"fleet.example"}));
  EXPECT_TRUE(host_allowed("10.0.0.7", "10.0.0.7", {}));
  EXPECT_FALSE(host_allowed("10.0.0.8", "10.0.0.7", {}));
  EXPECT_FALSE(host_allowed("127.0.0.1", "10.0.0.7", {}));
}

TEST(HostCheck, AllowedNamesFromTheEnvironment) {
  setenv("FLEETPIPE_ALLOWED_HOSTS", " fleet.example, ,dash.internal ", 1);
  EXPECT_EQ(allowed_hosts_from_env(), (std::vector<std::string>{"fleet.example", "dash.internal"}));
  unsetenv("FLEETPIPE_ALLOWED_HOSTS");
  EXPECT_TRUE(allowed_hosts_from_env().empty());
}

}  // namespace
}  // namespace fp::httpd
