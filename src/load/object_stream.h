// One object's bytes on their way into a COPY: SHA-256 over the bytes as stored, gunzip in bounded pieces,
// one COPY row per NDJSON line (validated by NdjsonRowParser), the rows sent to the COPY in pieces of
// 256 KiB. The stream enforces the object's limits as the bytes arrive, so a hostile object costs at most
// one piece and one line of memory: no line longer than max_line_bytes, no more lines than the manifest's
// row count, no more inflated bytes than max_inflated_bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/error.h"
#include "common/pg/copy.h"
#include "load/ndjson_lines.h"
#include "load/ndjson_row.h"

namespace fp::batch {

struct StreamLimits {
  int64_t rows = 0;  // the manifest's row count: one line more is an error
  size_t max_line_bytes = 64 * 1024;
  uint64_t max_inflated_bytes = 0;
};

class ObjectRowStream {
 public:
  // `suffix` is appended to every row (direct mode: "\t<object key>\t<epoch>"), empty in staged mode.
  ObjectRowStream(const TableSpec& spec, pg::CopyIn& copy, std::string suffix, StreamLimits limits,
                  uint64_t xid_from, uint64_t xid_to);

  // A downloaded chunk: its whole lines are parsed and queued for the COPY. Once the content is found bad
  // (content_error()), later chunks are only hashed: whether the bytes are the manifest's is the first
  // thing the quarantine reason should say, and that is known only at the end.
  Status write(std::string_view chunk);
  const std::optional<Error>& content_error() const { return content_error_; }
  // After the download: the gzip stream must have ended, and the last line may lack its newline.
  Status finish_gunzip() const { return gunzip_.finish(); }
  Status consume_rest() { return consume_lines(true, {}); }
  // Sends the rows still queued and ends the COPY.
  Result<int64_t> end_copy();
  std::string sha256() { return sha_.hex_digest(); }
  int64_t rows() const { return rows_; }

 private:
  Status take_piece(std::string_view piece);
  Status consume_lines(bool final, std::string_view piece);
  Status take_row(std::string_view line, size_t readable, int64_t line_no);

  NdjsonRowParser parser_;
  pg::CopyIn& copy_;
  const std::string suffix_;
  const StreamLimits limits_;
  GunzipReader gunzip_;
  Sha256Stream sha_;
  NdjsonLines lines_;
  std::string rows_out_;
  std::optional<Error> content_error_;
  uint64_t inflated_ = 0;
  int64_t rows_ = 0;
};

}  // namespace fp::batch
