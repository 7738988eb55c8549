#include "common/byte_size.h"

#include <gtest/gtest.h>

namespace fp {
namespace {

TEST(ByteSizeTest, BinaryAndDecimalUnitsAsConfigurationsWriteThem) {
  EXPECT_EQ(*parse_byte_size("4096"), 4096);
  EXPECT_EQ(*parse_byte_size("20GiB"), int64_t{20} << 30);
  EXPECT_EQ(*parse_byte_size("500MB"), 500'000'000);
  EXPECT_EQ(*parse_byte_size("1.5 GiB"), int64_t{3} << 29);
  EXPECT_EQ(*parse_byte_size("2g"), int64_t{2} << 30);  // a bare letter is binary, as du -h and -Xmx
  EXPECT_EQ(*parse_byte_size("3kb"), 3000);
  EXPECT_EQ(*parse_byte_size("3KiB"), 3072);
  EXPECT_EQ(*parse_byte_size("1TB"), 1'000'000'000'000);
  EXPECT_EQ(*parse_byte_size(" 7 B "), 7);
  EXPECT_EQ(*parse_byte_size("0.5K"), 512);
  EXPECT_EQ(*parse_byte_size("1.0001K"), 1024);  // rounded down to a whole byte
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "GiB", "-1GiB", "20 gibibytes", "1.2.3", "12XB", "1e9", "9999999999TiB"}) {
    auto r = parse_byte_size(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, Error::Kind::kInvalidInput) << bad;
  }
}

TEST(ByteSizeTest, FormatsInBinaryUnits) {
  EXPECT_EQ(format_byte_size(0), "0 B");
  EXPECT_EQ(format_byte_size(1023), "1023 B");
  EXPECT_EQ(format_byte_size(1536), "1.5 KiB");
  EXPECT_EQ(format_byte_size(int64_t{20} << 30), "20.0 GiB");
}

}  // namespace
}  // namespace fp
