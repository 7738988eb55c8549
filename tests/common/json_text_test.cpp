#include "common/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fp {
namespace {

std::string literal(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonText, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(literal("red"), "\"red\"");
  EXPECT_EQ(literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(literal("x\ny\r\tz"), "\"x\\ny\\r\\tz\"");
  EXPECT_EQ(literal(std::string_view("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(literal(""), "\"\"");
}

TEST(JsonText, EveryByteRoundTripsThroughAJsonParser) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "caf\xc3\xa9";  // UTF-8 passes through
  const auto parsed = nlohmann::json::parse(literal(all));
  EXPECT_EQ(parsed.get<std::string>(), all);
}

}  // namespace
}  // namespace fp
