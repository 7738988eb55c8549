#include "load/object_stream.h"

namespace fp::batch {

ObjectRowStream::ObjectRowStream(const TableSpec& spec, pg::CopyIn& copy, std::string suffix,
                                 StreamLimits limits, uint64_t xid_from, uint64_t xid_to)
    : parser_(spec), copy_(copy), suffix_(std::move(suffix)), limits_(limits), lines_(limits.max_line_bytes) {
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
  return consume_lines(false, piece);
}

Result<int64_t> ObjectRowStream::end_copy() {
  FP_CHECK(copy_.write(rows_out_), "copy");
  rows_out_.clear();
  return copy_.finish();
}

Status ObjectRowStream::take_row(std::string_view line, size_t readable, int64_t line_no) {
  if (rows_ == limits_.rows)
    return invalid_input("more than the manifest's {} rows (line {})", limits_.rows, line_no);
  auto st = parser_.parse(line, readable, rows_out_);
  if (!st) return std::move(st).error().context(fmt::format("line {}", line_no));
  if (!suffix_.empty()) {
    rows_out_.pop_back();  // the row's '\n'
    rows_out_ += suffix_;
    rows_out_ += '\n';
  }
  ++rows_;
  return ok_status();
}

Status ObjectRowStream::consume_lines(bool final, std::string_view piece) {
  const NdjsonLines::OnLine row = [this](std::string_view line, size_t readable, int64_t line_no) {
    return take_row(line, readable, line_no);
  };
  if (auto st = final ? lines_.finish(row) : lines_.add(piece, row); !st) return st;
  if (rows_out_.size() >= (256u << 10)) {
    FP_CHECK(copy_.write(rows_out_), "copy");
    rows_out_.clear();
  }
  return ok_status();
}

}  // namespace fp::batch
