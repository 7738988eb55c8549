// Parsing JSON that came from outside (a Kafka message, a request body, an object in the bucket) within
// bounds checked before the parser runs: a size and a nesting depth. nlohmann's parser keeps its own stack,
// but dumping (the console's pretty-printer) and walking a document recurse once per level, so a few
// hundred kilobytes of "[[[[..." would overflow the thread's stack; a document past the bounds is an error
// that names the bound, never a crash.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/error.h"

namespace fp {

struct JsonLimits {
  size_t max_bytes = size_t{1} << 20;
  size_t max_depth = 64;
};

// The deepest nesting of arrays and objects in `text`, counted outside strings; stops counting once past
// `stop_after` (the result is then stop_after + 1). Does not validate the text.
size_t json_nesting_depth(std::string_view text, size_t stop_after);

// Parses `text` if it is within `limits`; errors are kInvalidInput and say which bound or what syntax
// failed, prefixed with `what`.
Result<nlohmann::json> parse_json_bounded(std::string_view text, const JsonLimits& limits,
                                          std::string_view what);

}  // namespace fp
