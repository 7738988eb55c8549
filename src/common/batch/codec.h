// Streaming building blocks of the batch lane: gzip in and out (zlib), SHA-256 over a stream (OpenSSL EVP),
// and the COPY text row -> NDJSON line conversion the exporter runs on every row.
#pragma once

#include <openssl/evp.h>
#include <zlib.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/batch/layout.h"
#include "common/error.h"

namespace fp::batch {

// gzip with a zeroed header timestamp and no file name, so the same input always gives the same bytes
// (deterministic objects: a rerun rewrites an identical object with an identical ETag).
class GzipWriter {
 public:
  explicit GzipWriter(int level = 1);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  Status write(std::string_view data);
  // Ends the stream; the compressed bytes are in out(). The writer can be reset() and reused.
  Status finish();
  std::string& out() { return out_; }
  void reset();

 private:
  Status pump(std::string_view data, int flush);
  z_stream zs_{};
  bool init_ = false;
  std::string out_;
};

// Inflates a gzip stream delivered in pieces. finish() fails unless the stream ended exactly (a truncated
// object is an error, never a short read taken for the whole).
class GunzipReader {
 public:
  GunzipReader();
  ~GunzipReader();
  GunzipReader(const GunzipReader&) = delete;
  GunzipReader& operator=(const GunzipReader&) = delete;

  // Inflates data, handing the output to sink in pieces of at most kPiece bytes: however much a small input
  // inflates to (a gzip bomb), the reader never holds more than one piece.
  static constexpr size_t kPiece = 256 * 1024;
  Status write(std::string_view data, const std::function<Status(std::string_view)>& sink);
  // Inflates data, appending the output to out (for inputs whose output is known to be small).
  Status write(std::string_view data, std::string& out);
  Status finish() const;

 private:
  std::string piece_;
  z_stream zs_{};
  bool init_ = false;
  bool ended_ = false;
};

class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void update(std::string_view data);
  std::string hex_digest();  // ends the stream

 private:
  EVP_MD_CTX* ctx_;
};

// Undoes COPY text-format escaping of one field (\\, \t, \n, \r, \b, \f, \v, octal).
std::string copy_unescape(std::string_view field);
// Escapes a value for COPY text format.
void copy_escape_append(std::string& out, std::string_view value);

// One row of `COPY (SELECT <spec columns>, _export_xid ...) TO STDOUT` (text format, no trailing newline) as
// one JSON object line (with a trailing newline) appended to out. Numbers pass through in PostgreSQL's own
// shortest round-trip text, so values survive exactly. Also returns the id and the day of the date column.
struct RowInfo {
  int64_t id = 0;
  std::string_view day;  // YYYY-MM-DD, points into line
};
Result<RowInfo> copy_row_to_json(const TableSpec& spec, std::string_view line, std::string& out);

}  // namespace fp::batch
