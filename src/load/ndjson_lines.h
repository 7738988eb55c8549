// The lines of an NDJSON stream that arrives in pieces (inflated 256 KiB at a time): each whole line is
// handed on with simdjson's padding readable past it, no line may grow beyond max_line_bytes (checked while
// it is still incomplete, so an endless line costs at most that much memory), and finish() hands on a last
// line that lacks its newline. Empty lines are counted but not handed on. The loader's object stream and
// verify's read of the newest run both split objects this way.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp::batch {

class NdjsonLines {
 public:
  // `readable`: bytes readable from line.data() on (at least the line plus simdjson's padding).
  using OnLine = std::function<Status(std::string_view line, size_t readable, int64_t line_no)>;

  explicit NdjsonLines(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  Status add(std::string_view piece, const OnLine& on_line) {
    text_ += piece;
    return consume(false, on_line);
  }
  Status finish(const OnLine& on_line) { return consume(true, on_line); }

 private:
  Status consume(bool final, const OnLine& on_line);

  const size_t max_line_bytes_;
  std::string text_;
  int64_t line_no_ = 0;
};

}  // namespace fp::batch
