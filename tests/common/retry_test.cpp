#include "common/retry.h"

#include <gtest/gtest.h>

#include <set>

#include "common/shutdown.h"

namespace fp {
namespace {

TEST(RetryTest, BackoffIsJitteredAndCapped) {
  Backoff b{std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 10};
  std::mt19937_64 rng(42);
  std::set<long> seen;
  for (int attempt = 0; attempt < 10; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      const auto d = b.delay(attempt, rng).count();
      EXPECT_GE(d, 0);
      EXPECT_LE(d, std::min<long>(1000, 100L << attempt));
      seen.insert(d);
    }
  }
  EXPECT_GT(seen.size(), 50u);  // full jitter: delays spread out, not a fixed ladder
}

TEST(RetryTest, RetriesTransientErrorsUntilSuccess) {
  int calls = 0;
  auto r = retry<int>("op", Backoff{std::chrono::milliseconds(1), std::chrono::milliseconds(2), 5},
                      [&]() -> Result<int> {
                        if (++calls < 3) return transient_error("not yet");
                        return 7;
                      });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(calls, 3);
}

TEST(RetryTest, PermanentErrorsAreNotRetried) {
  int calls = 0;
  auto r = retry<int>("op", Backoff{}, [&]() -> Result<int> {
    ++calls;
    return make_error("bad request");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.error().message, "bad request");
}

TEST(RetryTest, GivesUpAfterMaxAttemptsWithContext) {
  int calls = 0;
  auto r = retry<int>("connect db", Backoff{std::chrono::milliseconds(1), std::chrono::milliseconds(1), 4},
                      [&]() -> Result<int> {
                        ++calls;
                        return transient_error("refused");
                      });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(calls, 4);
  EXPECT_NE(r.error().message.find("connect db"), std::string::npos);
  EXPECT_NE(r.error().message.find("4 attempts"), std::string::npos);
  EXPECT_NE(r.error().message.find("refused"), std::string::npos);
}

TEST(RetryTest, ShutdownInterruptsTheWait) {
  shutdown::reset_for_tests();
  shutdown::request();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = retry<int>("op", Backoff{std::chrono::seconds(10), std::chrono::seconds(10), 5},
                      []() -> Result<int> { return transient_error("down"); });
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_NE(r.error().message.find("shutdown"), std::string::npos);
  shutdown::reset_for_tests();
}

TEST(ErrorTest, ContextChains) {
  Error e = make_error("timeout");
  e = std::move(e).context("GET /x").context("load");
  EXPECT_EQ(e.message, "load: GET /x: timeout");
  Status s = []() -> Status {
    FP_CHECK(Status(transient_error("gone")), "step");
    return ok_status();
  }();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "step: gone");
  EXPECT_TRUE(s.error().transient());
}

}  // namespace
}  // namespace fp
