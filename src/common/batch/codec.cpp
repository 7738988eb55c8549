#include "common/batch/codec.h"

#include <charconv>
#include <cstring>

#include "common/digest.h"
#include "common/escape.h"
#include "common/json_text.h"

namespace fp::batch {

GzipWriter::GzipWriter(int level) {
  // windowBits 15 + 16 = gzip wrapper; zlib writes mtime 0 and no name unless deflateSetHeader is called.
  init_ = deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipWriter::~GzipWriter() {
  if (init_) deflateEnd(&zs_);
}

void GzipWriter::reset() {
  out_.clear();
  if (init_) deflateReset(&zs_);
}

Status GzipWriter::pump(std::string_view data, int flush) {
  if (!init_) return make_error("gzip: deflateInit2 failed");
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs_.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    const size_t room = std::max<size_t>(64 * 1024, data.size() / 2);
    const size_t old = out_.size();
    out_.resize(old + room);
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data() + old);
    zs_.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&zs_, flush);
    out_.resize(old + room - zs_.avail_out);
    if (rc == Z_STREAM_END) return ok_status();
    if (rc != Z_OK && rc != Z_BUF_ERROR) return make_error("gzip: deflate error {}", rc);
    if (flush == Z_NO_FLUSH && zs_.avail_in == 0) return ok_status();
  }
}

Status GzipWriter::write(std::string_view data) {
  return pump(data, Z_NO_FLUSH);
}

Status GzipWriter::finish() {
  return pump({}, Z_FINISH);
}

GunzipReader::GunzipReader() {
  init_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
}

GunzipReader::~GunzipReader() {
  if (init_) inflateEnd(&zs_);
}

Status GunzipReader::write(std::string_view data, const std::function<Status(std::string_view)>& sink) {
  if (!init_) return make_error("gunzip: inflateInit2 failed");
  if (data.empty()) return ok_status();
  if (ended_) return invalid_input("gunzip: data after the end of the gzip stream");
  piece_.resize(kPiece);
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs_.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    zs_.next_out = reinterpret_cast<Bytef*>(piece_.data());
    zs_.avail_out = static_cast<uInt>(piece_.size());
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    const size_t produced = piece_.size() - zs_.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      return invalid_input("gunzip: corrupt data ({})", zs_.msg ? zs_.msg : std::to_string(rc));
    if (produced > 0) FP_CHECK(sink(std::string_view(piece_.data(), produced)), "inflated data");
    if (rc == Z_STREAM_END) {
      ended_ = true;
      if (zs_.avail_in > 0) return invalid_input("gunzip: data after the end of the gzip stream");
      return ok_status();
    }
    // Done with this input once it is consumed and the output buffer was not filled (nothing held back).
    if (zs_.avail_in == 0 && zs_.avail_out > 0) return ok_status();
    if (rc == Z_BUF_ERROR && produced == 0) return ok_status();
  }
}

Status GunzipReader::write(std::string_view data, std::string& out) {
  return write(data, [&](std::string_view piece) {
    out += piece;
    return ok_status();
  });
}

Status GunzipReader::finish() const {
  if (!ended_) return invalid_input("gunzip: truncated gzip stream (no end marker)");
  return ok_status();
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256Stream::update(std::string_view data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::string Sha256Stream::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  return digest::hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string copy_unescape(std::string_view f) {
  std::string out;
  out.reserve(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c != '\\' || i + 1 == f.size()) {
      out += c;
      continue;
    }
    const char n = f[++i];
    switch (n) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      default:
        if (n >= '0' && n <= '7') {
          int v = n - '0';
          for (int k = 0; k < 2 && i + 1 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '7'; ++k)
            v = v * 8 + (f[++i] - '0');
          out += static_cast<char>(v);
        } else {
          out += n;
        }
    }
  }
  return out;
}

void copy_escape_append(std::string& out, std::string_view v) {
  // COPY text's escapes for the bytes that would end a field or a row, and the escape character itself.
  static constexpr EscapeTable kCopyText{{'\\', "\\\\"}, {'\t', "\\t"}, {'\n', "\\n"}, {'\r', "\\r"}};
  kCopyText.append(out, v);
}

namespace {

bool is_json_number(std::string_view t) {
  // PostgreSQL prints integers and finite floats as valid JSON numbers; NaN and +-Infinity are not.
  return !t.empty() && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) && t != "-Infinity";
}

}  // namespace

Result<RowInfo> copy_row_to_json(const TableSpec& spec, std::string_view line, std::string& out) {
  RowInfo info;
  out += '{';
  size_t pos = 0;
  const size_t ncols = spec.columns.size() + 1;  // + _export_xid
  for (size_t c = 0; c < ncols; ++c) {
    const size_t tab = line.find('\t', pos);
    const bool last = c + 1 == ncols;
    if ((tab == std::string_view::npos) != last)
      return invalid_input("{} row: expected {} fields: {:.120}", spec.name, ncols, line);
    const std::string_view field = line.substr(pos, last ? std::string_view::npos : tab - pos);
    pos = tab + 1;
    if (field == "\\N") return invalid_input("{} row: NULL in a NOT NULL column", spec.name);
    if (c > 0) out += ',';
    if (last) {
      out += '"';
      out += kSourceXidField;
      out += "\":";
      out += field;
      break;
    }
    const Column& col = spec.columns[c];
    out += '"';
    out += col.name;
    out += "\":";
    switch (col.kind) {
      case ColumnKind::kInt32:
      case ColumnKind::kInt64:
        out += field;
        if (c == 0) {
          auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), info.id);
          if (ec != std::errc() || p != field.data() + field.size())
            return invalid_input("{} row: bad id {:?}", spec.name, field);
        }
        break;
      case ColumnKind::kFloat64:
        if (is_json_number(field))
          out += field;
        else
          append_json_string(out, field);  // "NaN", "Infinity", "-Infinity"
        break;
      case ColumnKind::kText:
      case ColumnKind::kTimestamp:
      case ColumnKind::kTimestampTz:
      case ColumnKind::kDate:
        if (field.find('\\') != std::string_view::npos)
          append_json_string(out, copy_unescape(field));
        else
          append_json_string(out, field);
        break;
    }
    if (col.name == spec.date_column) info.day = field.substr(0, std::min<size_t>(10, field.find(' ')));
  }
  out += "}\n";
  return info;
}

}  // namespace fp::batch
