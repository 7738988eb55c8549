#include "common/escape.h"

#include <gtest/gtest.h>

namespace fp {
namespace {

TEST(EscapeTableTest, ReplacesListedBytesAndPassesTheRestThrough) {
  static constexpr EscapeTable kTable{{'a', "[A]"}, {'\0', "\\0"}, {'\xff', "<ff>"}};
  EXPECT_EQ(kTable.escape("banana"), "b[A]n[A]n[A]");
  EXPECT_EQ(kTable.escape(std::string_view("x\0y\xff", 4)), "x\\0y<ff>");
  EXPECT_EQ(kTable.escape(""), "");
  EXPECT_EQ(kTable.escape("é ü"), "é ü");  // UTF-8 bytes not listed pass through unchanged
}

TEST(EscapeTableTest, AppendKeepsWhatIsThere) {
  static constexpr EscapeTable kTable{{'<', "&lt;"}};
  std::string out = "head:";
  kTable.append(out, "<b>");
  EXPECT_EQ(out, "head:&lt;b>");
}

}  // namespace
}  // namespace fp
