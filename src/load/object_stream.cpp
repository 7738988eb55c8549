#include "load/object_stream.h"

namespace fp::batch {

ObjectRowStream::ObjectRowStream(const TableSpec& spec, pg::CopyIn& copy, std::string suffix,
                                 StreamLimits limits, uint64_t xid_from, uint64_t xid_to)
    : parser_(spec), copy_(copy), suffix_(std::move(suffix)), limits_(limits) {
  parser_.require_xid_range(xid_from, xid_to);
}

Status ObjectRowStream::write(std::string_view chunk) {
  sha_.update(chunk);
  if (content_error_) return ok_status();
  auto st = gunzip_.write(chunk, [this](std::string_view piece) { return take_piece(piece); });
  if (!st && st.error().kind == Error::Kind::kInvalidInput) {
    content_error_ = std::move(st).error();
    return ok_status();
  }
  return st;
}

Status ObjectRowStream::take_piece(std::string_view piece) {
  inflated_ += piece.size();
  if (inflated_ > limits_.max_inflated_bytes)
    return invalid_input("inflates to more than {} bytes (the limit for {} rows)", limits_.max_inflated_bytes,
                         limits_.rows);
  text_ += piece;
  return consume_lines(false);
}

Result<int64_t> ObjectRowStream::end_copy() {
  FP_CHECK(copy_.write(rows_out_), "copy");
  rows_out_.clear();
  return copy_.finish();
}

Status ObjectRowStream::consume_lines(bool final) {
  size_t pos = 0;
  // Keep simdjson's padding readable past every line: the tail of `text` is over-allocated.
  text_.reserve(text_.size() + simdjson::SIMDJSON_PADDING);
  const size_t readable_end = text_.capacity();
  for (;;) {
    size_t nl = text_.find('\n', pos);
    if (nl == std::string::npos) {
      if (text_.size() - pos > limits_.max_line_bytes)
        return invalid_input("line {} is longer than {} bytes", line_no_ + 1, limits_.max_line_bytes);
      if (!final || pos == text_.size()) break;
      nl = text_.size();  // last line without a newline
    }
    ++line_no_;
    const std::string_view line(text_.data() + pos, nl - pos);
    if (line.size() > limits_.max_line_bytes)
      return invalid_input("line {} is longer than {} bytes", line_no_, limits_.max_line_bytes);
    if (!line.empty()) {
      if (rows_ == limits_.rows)
        return invalid_input("more than the manifest's {} rows (line {})", limits_.rows, line_no_);
      auto st = parser_.parse(line, readable_end - pos, rows_out_);
      if (!st) return std::move(st).error().context(fmt::format("line {}", line_no_));
      if (!suffix_.empty()) {
        rows_out_.pop_back();  // the row's '\n'
        rows_out_ += suffix_;
        rows_out_ += '\n';
      }
      ++rows_;
    }
    pos = nl + 1;
    if (pos >= text_.size()) break;
  }
  text_.erase(0, std::min(pos, text_.size()));
  if (rows_out_.size() >= (256u << 10)) {
    FP_CHECK(copy_.write(rows_out_), "copy");
    rows_out_.clear();
  }
  return ok_status();
}

}  // namespace fp::batch
