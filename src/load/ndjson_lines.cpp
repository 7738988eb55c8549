#include "load/ndjson_lines.h"

#include <simdjson.h>

#include <algorithm>

namespace fp::batch {

Status NdjsonLines::consume(bool final, const OnLine& on_line) {
  size_t pos = 0;
  // Keep simdjson's padding readable past every line: the tail of `text_` is over-allocated.
  text_.reserve(text_.size() + simdjson::SIMDJSON_PADDING);
  const size_t readable_end = text_.capacity();
  while (pos < text_.size()) {
    size_t nl = text_.find('\n', pos);
    if (nl == std::string::npos) {
      if (text_.size() - pos > max_line_bytes_)
        return invalid_input("line {} is longer than {} bytes", line_no_ + 1, max_line_bytes_);
      if (!final) break;
      nl = text_.size();  // last line without a newline
    }
    ++line_no_;
    const std::string_view line(text_.data() + pos, nl - pos);
    if (line.size() > max_line_bytes_)
      return invalid_input("line {} is longer than {} bytes", line_no_, max_line_bytes_);
    if (!line.empty()) {
      if (auto st = on_line(line, readable_end - pos, line_no_); !st) return st;
    }
    pos = nl + 1;
  }
  text_.erase(0, std::min(pos, text_.size()));
  return ok_status();
}

}  // namespace fp::batch
