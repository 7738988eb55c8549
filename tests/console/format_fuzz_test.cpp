// The topic tail's pretty-printer on hostile message values: whatever a producer sends, the text shown is
// bounded, valid UTF-8, and the process stays up.
#include <gtest/gtest.h>

#include "console/format.h"
#include "fuzz.h"

namespace fp::console {
namespace {

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

TEST(ConsoleFormatFuzz, AnyPayloadIsShownBoundedAndValid) {
  const std::vector<std::string> samples = {
      R"({"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":1,"color":"red"},"op":"c"}})",
      R"([1,2.5,"x",true,null,{"a":[{}]}])", "plain text", std::string(5000, 'y'), ""};
  const std::vector<std::string> dict = {"{", "}", "[", "]", "\"", ":", ",", "\\u0000", "\\ud800", "null"};
  const size_t n = fuzz::run(samples, dict, [](const std::string& input) {
    for (size_t max : {size_t{16}, size_t{4096}}) {
      // As the tail reads it: whole, or only its first bytes.
      for (size_t kept : {input.size(), input.size() / 2}) {
        const auto v = display_payload(input.substr(0, kept), input.size(), max, true);
        EXPECT_LE(v.text.size(), max + 3);  // the cut is marked with "…" (3 bytes)
        EXPECT_TRUE(valid_utf8(v.text));
        if (kept < input.size()) {
          EXPECT_FALSE(v.note.empty());
        }
      }
    }
  });
  EXPECT_GT(n, 10u);
}

}  // namespace
}  // namespace fp::console
