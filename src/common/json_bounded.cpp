#include "common/json_bounded.h"

namespace fp {

size_t json_nesting_depth(std::string_view text, size_t stop_after) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stop_after) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_json_bounded(std::string_view text, const JsonLimits& limits,
                                          std::string_view what) {
  if (text.size() > limits.max_bytes)
    return invalid_input("{}: {} bytes of JSON, more than the {} allowed", what, text.size(),
                         limits.max_bytes);
  if (json_nesting_depth(text, limits.max_depth) > limits.max_depth)
    return invalid_input("{}: JSON nested deeper than {} levels", what, limits.max_depth);
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_input("{}: not valid JSON", what);
  return doc;
}

}  // namespace fp
