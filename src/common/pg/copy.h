// The writer side of COPY FROM STDIN. Data is batched into ~64 KiB PQputCopyData calls; finish() ends the
// COPY and returns the server's row count. COPY is atomic: on any error (a bad row, a lost connection,
// abort(), or the writer being destroyed unfinished) the server discards everything, so a half-written
// COPY never becomes visible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace fp::pg {

namespace detail {
struct ConnState;
}

class CopyIn {
 public:
  static constexpr size_t kBatchBytes = 64 * 1024;

  CopyIn(CopyIn&& o) noexcept : s_(std::exchange(o.s_, nullptr)), buf_(std::move(o.buf_)) {}
  CopyIn& operator=(CopyIn&&) = delete;
  CopyIn(const CopyIn&) = delete;
  ~CopyIn();  // aborts an unfinished COPY

  // Appends data in the COPY's format (CSV or text lines); rows may span calls. On error the COPY has
  // already been aborted.
  Status write(std::string_view data);
  // Sends the rest, ends the COPY and returns the number of rows the server stored.
  Result<int64_t> finish();
  // Ends the COPY with an error so the server stores nothing.
  Status abort(std::string_view reason);
  bool active() const { return s_ != nullptr; }

 private:
  friend class Connection;
  explicit CopyIn(detail::ConnState* s);
  Status put(std::string_view chunk);
  Error fail(Error e);  // aborts and returns e

  detail::ConnState* s_;
  std::string buf_;
};

}  // namespace fp::pg
