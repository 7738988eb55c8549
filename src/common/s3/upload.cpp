// Uploads that do not fit one request's body: an object streamed from a file, and S3 multipart uploads
// (create, parts, complete, abort on failure) for large or unknown-size streams.
#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/digest.h"
#include "common/log.h"
#include "common/s3/call.h"
#include "common/s3/client.h"

namespace fp::s3 {

using namespace detail;

namespace {

// Reads from `reader` until `want` bytes or the end of the stream.
Result<std::string> fill(const Reader& reader, size_t want) {
  std::string buf(want, '\0');
  size_t have = 0;
  while (have < want) {
    const size_t n = FP_TRY(reader(buf.data() + have, want - have), "read upload data");
    if (n == 0) break;
    have += n;
  }
  buf.resize(have);
  return buf;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

Result<File> open_file(const std::filesystem::path& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return make_error("open {}: {}", path.string(), std::strerror(errno));
  return f;
}

}  // namespace

Result<std::string> Client::put_object_from_file(std::string_view key, const std::filesystem::path& path,
                                                 std::string_view content_type, const Metadata& metadata) {
  FP_CHECK(validate_key(key), "put object from file");
  FP_CHECK(validate_metadata(metadata), fmt::format("put object {}", key));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error("s3: PUT {} from {}: {}", key, path.string(), ec.message());

  if (size > opts_.part_size) {
    File f = FP_TRY(open_file(path), fmt::format("s3: PUT {}", key));
    std::FILE* raw = f.get();
    const Reader reader = [raw, &path](char* buf, size_t max) -> Result<size_t> {
      const size_t n = std::fread(buf, 1, max, raw);
      if (n == 0 && std::ferror(raw)) return make_error("read {}: {}", path.string(), std::strerror(errno));
      return n;
    };
    return put_large(key, reader, content_type, metadata);
  }

  // One streamed PUT; the file is reopened for every attempt.
  auto read_error = std::make_shared<std::string>();
  Call c;
  c.method = "PUT";
  c.key = std::string(key);
  c.body_size = static_cast<long long>(size);
  c.timeout = transfer_timeout(size);
  c.headers.emplace_back("content-type", std::string(content_type));
  add_metadata(c.headers, metadata);
  c.open_body = [path, read_error]() -> Result<std::function<size_t(char*, size_t)>> {
    std::shared_ptr<std::FILE> f(std::fopen(path.c_str(), "rb"), [](std::FILE* p) {
      if (p) std::fclose(p);
    });
    if (!f) return make_error("open {}: {}", path.string(), std::strerror(errno));
    return std::function<size_t(char*, size_t)>([f, path, read_error](char* buf, size_t max) -> size_t {
      const size_t n = std::fread(buf, 1, max, f.get());
      if (n == 0 && std::ferror(f.get())) {
        *read_error = fmt::format("read {}: {}", path.string(), std::strerror(errno));
        return CURL_READFUNC_ABORT;
      }
      return n;
    });
  };
  auto r = execute_with_retry(fmt::format("PUT {} from {}", key, path.string()), c);
  if (!r.ok()) {
    if (!read_error->empty()) return make_error("s3: PUT {}: {}", key, *read_error);
    return std::move(r).error().context("s3");
  }
  const std::string* etag = r->header("etag");
  if (!etag) return make_error("s3: PUT {}: answer has no ETag", key);
  return strip_quotes(*etag);
}

Result<std::string> Client::put_large(std::string_view key, const Reader& reader,
                                      std::string_view content_type, const Metadata& metadata) {
  FP_CHECK(validate_key(key), "put large object");
  std::string first = FP_TRY(fill(reader, opts_.part_size), fmt::format("s3: PUT {}", key));
  // A stream that ends within one part needs no multipart upload.
  if (first.size() < opts_.part_size) return put_object(key, first, content_type, metadata);
  return upload_multipart(key, reader, std::move(first), content_type, metadata);
}

Result<std::string> Client::upload_multipart(std::string_view key, const Reader& reader,
                                             std::string first_part, std::string_view content_type,
                                             const Metadata& metadata) {
  const std::string upload_id = FP_TRY(create_multipart_upload(key, content_type, metadata), "s3: multipart");
  std::vector<CompletedPart> parts;
  // Any failure after this point aborts the upload, so S3 does not keep (and bill for) orphaned parts.
  auto fail = [&](Error e) -> Error {
    if (auto a = abort_multipart_upload(key, upload_id); !a.ok()) {
      log::warn(kComponent, "abort of multipart upload {} for {} failed: {}", upload_id, key,
                a.error().message);
      e.message += fmt::format(" (abort of upload {} also failed: {})", upload_id, a.error().message);
    }
    return std::move(e).context(fmt::format("s3: multipart upload of {}", key));
  };
  std::string part = std::move(first_part);
  for (int number = 1; !part.empty(); ++number) {
    if (number > 10000) return fail(invalid_input("more than 10000 parts; raise part_size"));
    auto etag = upload_part(key, upload_id, number, part);
    if (!etag.ok()) return fail(std::move(etag).error());
    parts.push_back({number, std::move(etag).value()});
    auto next = fill(reader, opts_.part_size);
    if (!next.ok()) return fail(std::move(next).error());
    part = std::move(next).value();
  }
  auto etag = complete_multipart_upload(key, upload_id, parts);
  if (!etag.ok()) return fail(std::move(etag).error());
  log::debug(kComponent, "uploaded {} in {} parts", key, parts.size());
  return etag;
}

Result<std::string> Client::create_multipart_upload(std::string_view key, std::string_view content_type,
                                                    const Metadata& metadata) {
  FP_CHECK(validate_key(key), "create multipart upload");
  FP_CHECK(validate_metadata(metadata), fmt::format("create multipart upload {}", key));
  Call c;
  c.method = "POST";
  c.key = std::string(key);
  c.query = {{"uploads", ""}};
  c.headers.emplace_back("content-type", std::string(content_type));
  add_metadata(c.headers, metadata);
  const http::Response r =
      FP_TRY(execute_with_retry(fmt::format("create multipart upload {}", key), c), "s3");
  return parse_upload_id(r.body);
}

Result<std::string> Client::upload_part(std::string_view key, std::string_view upload_id, int part_number,
                                        std::string_view bytes) {
  Call c;
  c.method = "PUT";
  c.key = std::string(key);
  c.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
  c.body = std::string(bytes);
  c.timeout = transfer_timeout(bytes.size());
  // Without an explicit type curl labels the body application/x-www-form-urlencoded.
  c.headers.emplace_back("content-type", "application/octet-stream");
  c.headers.emplace_back("content-md5", digest::base64(digest::md5(bytes)));
  const http::Response r =
      FP_TRY(execute_with_retry(fmt::format("upload part {} of {}", part_number, key), c), "s3");
  const std::string* etag = r.header("etag");
  if (!etag) return make_error("s3: upload part {} of {}: answer has no ETag", part_number, key);
  return strip_quotes(*etag);
}

Result<std::string> Client::complete_multipart_upload(std::string_view key, std::string_view upload_id,
                                                      const std::vector<CompletedPart>& parts) {
  Call c;
  c.method = "POST";
  c.key = std::string(key);
  c.query = {{"uploadId", std::string(upload_id)}};
  c.body = complete_multipart_body(parts);
  c.headers.emplace_back("content-type", "application/xml");
  // S3 may take long to assemble a large object (it keeps the connection alive meanwhile).
  c.timeout = std::max(opts_.request_timeout, std::chrono::milliseconds(std::chrono::minutes(5)));
  const std::string what = fmt::format("complete multipart upload {}", key);
  // A 200 answer can still carry an <Error> (e.g. InternalError): parse inside the retry so it is retried.
  return retry<std::string>(what, opts_.backoff, [&]() -> Result<std::string> {
    const http::Response r = FP_TRY(execute(c), what);
    if (!is_2xx(r.status)) return error_from_response(r.status, r.body, what);
    return FP_TRY(parse_result_etag(r.body, "CompleteMultipartUploadResult"), what);
  });
}

Status Client::abort_multipart_upload(std::string_view key, std::string_view upload_id) {
  Call c;
  c.method = "DELETE";
  c.key = std::string(key);
  c.query = {{"uploadId", std::string(upload_id)}};
  // Already gone (aborted or completed by an earlier attempt) is the state we want.
  c.accept = [](const http::Response& r) { return r.status == 404; };
  FP_CHECK(execute_with_retry(fmt::format("abort multipart upload {} of {}", upload_id, key), c), "s3");
  return ok_status();
}

}  // namespace fp::s3
