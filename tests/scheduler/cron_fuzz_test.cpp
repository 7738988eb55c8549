// The cron parser on hostile expressions (from the command line or the console): an expression or an error,
// and a parsed one's next time is in the future or an error, within bounded time.
#include <gtest/gtest.h>

#include "fuzz.h"
#include "scheduler/cron.h"

namespace fp::sched {
namespace {

TEST(CronFuzz, AnExpressionParsesOrSaysWhyAndNextTimesMoveForward) {
  const std::vector<std::string> samples = {"*/5 * * * *", "0 3 * * mon-fri", "15,45 8-18/2 1,15 jan-jun *",
                                            "0 0 29 2 *", "59 23 31 12 7"};
  const std::vector<std::string> dict = {"*", "/",   "-",   ",",   " ",          "60",
                                         "0", "sun", "dec", "*/0", "99999999999"};
  const auto now = std::chrono::system_clock::now();
  const size_t n = fuzz::run(samples, dict, [&](const std::string& input) {
    auto c = CronExpr::parse(input);
    if (!c) {
      EXPECT_FALSE(c.error().message.empty());
      return;
    }
    auto next = c->next_after(now);
    if (next) {
      EXPECT_GT(*next, now);
    }
  });
  EXPECT_GT(n, 10u);
}

}  // namespace
}  // namespace fp::sched
