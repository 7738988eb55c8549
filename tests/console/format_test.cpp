#include "console/format.h"

#include <gtest/gtest.h>

#include "common/kafka/admin.h"

namespace fp::console {
namespace {

TEST(ConsoleFormat, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(5LL << 20), "5.0 MiB");
  EXPECT_EQ(human_bytes(3LL << 30), "3.0 GiB");
  EXPECT_EQ(human_bytes(-2048), "-2.0 KiB");
}

TEST(ConsoleFormat, GroupedDigits) {
  EXPECT_EQ(grouped(0), "0");
  EXPECT_EQ(grouped(999), "999");
  EXPECT_EQ(grouped(1000), "1,000");
  EXPECT_EQ(grouped(1234567), "1,234,567");
  EXPECT_EQ(grouped(-1234), "-1,234");
  EXPECT_EQ(grouped(INT64_MIN), "-9,223,372,036,854,775,808");
}

TEST(ConsoleFormat, UtcTime) {
  EXPECT_EQ(utc_time_ms(0), "1970-01-01 00:00:00.000 UTC");
  EXPECT_EQ(utc_time_ms(1713168003250), "2024-04-15 08:00:03.250 UTC");
  EXPECT_EQ(utc_time_ms(-1), "-");
}

TEST(ConsoleFormat, TruncateNeverSplitsAUtf8Sequence) {
  EXPECT_EQ(truncate_utf8("abc", 3), "abc");
  EXPECT_EQ(truncate_utf8("abcdef", 3), "abc…");
  // "é" is two bytes; cutting at 2 would split it, so the cut moves back before it.
  EXPECT_EQ(truncate_utf8("aé", 2), "a…");
  EXPECT_EQ(truncate_utf8("aé", 3), "aé");
}

// The text of a payload shown whole (its note empty).
std::string shown(const std::optional<std::string>& p, size_t max_bytes, bool pretty) {
  auto v = display_payload(p, p ? p->size() : 0, max_bytes, pretty);
  EXPECT_TRUE(v.note.empty() || v.text.ends_with("…")) << v.note;
  return v.text;
}

TEST(ConsoleFormat, PayloadsArePrettyJsonOrEscapedText) {
  EXPECT_EQ(shown(std::nullopt, 100, true), "null");
  EXPECT_EQ(shown(std::string(R"({"a":1,"b":[true]})"), 100, true),
            "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}");
  // Not pretty-printed when asked not to, and not JSON when it does not parse.
  EXPECT_EQ(shown(std::string(R"({"a":1})"), 100, false), R"({"a":1})");
  EXPECT_EQ(shown(std::string("{not json"), 100, true), "{not json");
  // Binary bytes and control characters are shown as escapes, newlines and tabs kept.
  EXPECT_EQ(shown(std::string("a\x01\xff\nb\tc", 7), 100, true), "a\\x01\\xFF\nb\tc");
  EXPECT_EQ(shown(std::string("h\xc3\xa9llo"), 100, true), "h\xc3\xa9llo");
  // Truncated to the limit, with a note.
  EXPECT_EQ(shown(std::string(50, 'x'), 10, true), std::string(10, 'x') + "…");
  EXPECT_EQ(shown(std::string(R"({"k":"0123456789"})"), 8, true), "{\n  \"k\":…");
  EXPECT_EQ(display_payload(std::string(50, 'x'), 50, 10, true).note, "cut to 10 B");
}

// Hostile values: nesting that would overflow the pretty-printer's recursion, sizes past what is worth
// re-indenting, a value a reader kept only the start of. Each is shown as sent, cut, with a note; none is
// parsed past its bounds.
TEST(ConsoleFormat, PayloadsPastTheBoundsAreShownAsSentWithANote) {
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  auto v = display_payload(deep, deep.size(), 4096, true);
  EXPECT_EQ(v.text, std::string(3000, '[') + std::string(1096, ']') + "…");
  EXPECT_EQ(v.note, "cut to 4.0 KiB; as sent: nested deeper than 64 levels to re-indent");
  // The few hundred kilobytes of nesting that once took the console down.
  const std::string bomb = std::string(300000, '[') + std::string(300000, ']');
  v = display_payload(bomb, bomb.size(), 4096, true);
  EXPECT_EQ(v.text, std::string(4096, '[') + "…");
  EXPECT_EQ(v.note, "cut to 4.0 KiB; as sent: larger than 64.0 KiB to re-indent");
  // 64 levels are still re-indented.
  const std::string ok_deep = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(display_payload(ok_deep, ok_deep.size(), 1 << 20, true).note, "");
  EXPECT_NE(display_payload(ok_deep, ok_deep.size(), 1 << 20, true).text, ok_deep);

  std::string big = R"({"k":")" + std::string(kPrettyMaxBytes, 'x') + R"("})";
  v = display_payload(big, big.size(), 1 << 20, true);
  EXPECT_EQ(v.text, big);
  EXPECT_EQ(v.note, "as sent: larger than 64.0 KiB to re-indent");

  // The reader kept 10 of 1 000 bytes.
  v = display_payload(std::string(R"({"a":[1,2,)"), 1000, 4096, true);
  EXPECT_EQ(v.text, R"({"a":[1,2,…)");
  EXPECT_EQ(v.note, "first 10 B of the 1000 B sent; as sent: cut before it could be re-indented");
}

TEST(ConsoleFormat, TailRange) {
  EXPECT_EQ(tail_range(0, 100, 20).first, 80);
  EXPECT_EQ(tail_range(0, 100, 20).end, 100);
  EXPECT_EQ(tail_range(90, 100, 20).first, 90);  // fewer stored than asked
  EXPECT_EQ(tail_range(0, 0, 20).first, 0);      // empty partition
  EXPECT_EQ(tail_range(0, 0, 20).end, 0);
  EXPECT_EQ(tail_range(50, 40, 5).first, 50);  // nonsense watermarks never give a negative range
  EXPECT_EQ(tail_range(50, 40, 5).end, 50);
}

TEST(ConsoleLag, CommittedOffsetAgainstWatermarks) {
  EXPECT_EQ(kafka::partition_lag(90, 0, 100), 10);
  EXPECT_EQ(kafka::partition_lag(100, 0, 100), 0);
  // Nothing committed: the group would start at the oldest stored message.
  EXPECT_EQ(kafka::partition_lag(-1, 40, 100), 60);
  // A commit past the end (truncated or recreated topic) is no lag, never negative.
  EXPECT_EQ(kafka::partition_lag(150, 0, 100), 0);
  EXPECT_EQ(kafka::partition_lag(-1, 0, 0), 0);
}

}  // namespace
}  // namespace fp::console
