#include "common/cli_support.h"

#include <gtest/gtest.h>

namespace fp::cli {
namespace {

TEST(CliSupport, ExitCodes) {
  EXPECT_EQ(exit_code("test", ok_status()), 0);
  EXPECT_EQ(exit_code("test", Status(make_error("boom"))), kExitFailed);
  EXPECT_EQ(exit_code("test", Status(make_error("boom")), kExitUsage), kExitUsage);
  EXPECT_EQ(fail("test", make_error("boom")), 1);
  EXPECT_EQ(fail("test", make_error("boom"), 3), 3);
}

}  // namespace
}  // namespace fp::cli
