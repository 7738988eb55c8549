#include "common/progress.h"

#include <gtest/gtest.h>

#include <thread>

namespace fp {
namespace {

using namespace std::chrono_literals;

// The generator's way: counts set outright, a second count, a fraction from the source, and the line
// cleared at the end because a summary follows.
TEST(ProgressTest, TerminalLineWithSecondCountFractionAndEta) {
  testing::internal::CaptureStderr();
  {
    Progress p("generate", "generate",
               {.unit = "rows", .total = 0, .tty = true, .second_count = "rejected", .final_report = false});
    std::this_thread::sleep_for(600ms);
    p.update(1500, 7, 0.25);
    p.finish();
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("generate [######"), std::string::npos) << out;
  EXPECT_NE(out.find(" 25% 1.5k rows"), std::string::npos) << out;
  EXPECT_NE(out.find("rows/s  7 rejected"), std::string::npos) << out;
  EXPECT_NE(out.find(" ETA 0:00:0"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\033[2K")) << out;  // cleared, no final line
}

// The batch lane's way: counts added up against a known total, and a final line that stays.
TEST(ProgressTest, TerminalLineAgainstATotalEndsWithTheFinalLine) {
  testing::internal::CaptureStderr();
  {
    Progress p("load", "load",
               {.unit = "bytes", .total = 1000, .tty = true, .second_count = {}, .final_report = true});
    p.add(400);
    std::this_thread::sleep_for(150ms);
    p.add(100);
  }  // the destructor finishes
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("load [############............]  50% 500 bytes"), std::string::npos) << out;
  EXPECT_EQ(out.find("rejected"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\n")) << out;
  EXPECT_EQ(out.find("ETA", out.rfind('\r')), std::string::npos) << out;  // no ETA on the final line
}

TEST(ProgressTest, NothingOnTheTerminalWhenNotATerminal) {
  testing::internal::CaptureStderr();
  {
    Progress p("generate", "generate",
               {.unit = "rows", .total = 0, .tty = false, .second_count = "rejected", .final_report = false});
    p.update(10, 1, 0.5);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr().find("\r"), std::string::npos);
}

}  // namespace
}  // namespace fp
