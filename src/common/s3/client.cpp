#include "common/s3/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

#include "common/digest.h"
#include "common/http/markup.h"
#include "common/log.h"
#include "common/s3/call.h"
#include "common/s3/sigv4.h"

namespace fp::s3 {
namespace detail {

bool is_2xx(long status) {
  return status >= 200 && status < 300;
}

Status validate_key(std::string_view key) {
  if (key.empty()) return invalid_input("empty object key");
  if (key.size() > 1024) return invalid_input("object key longer than 1024 bytes");
  size_t start = 0;
  while (start <= key.size()) {
    const size_t end = std::min(key.find('/', start), key.size());
    const std::string_view seg = key.substr(start, end - start);
    if (seg == "." || seg == "..") return invalid_input("object key {:?} has a '.' or '..' segment", key);
    start = end + 1;
  }
  return ok_status();
}

Status validate_metadata(const Metadata& metadata) {
  for (const auto& [k, v] : metadata) {
    const auto bad_name = [](unsigned char c) { return !(std::isalnum(c) || c == '-' || c == '_'); };
    if (k.empty() || std::any_of(k.begin(), k.end(), bad_name))
      return invalid_input("metadata name {:?} must be [A-Za-z0-9_-]+", k);
    // HTTP header values: printable ASCII only (S3 would otherwise mangle or reject them).
    if (std::any_of(v.begin(), v.end(), [](unsigned char c) { return c < 0x20 || c > 0x7e; }))
      return invalid_input("metadata {:?} value must be printable ASCII", k);
  }
  return ok_status();
}

void add_metadata(http::Headers& headers, const Metadata& metadata) {
  for (const auto& [k, v] : metadata) headers.emplace_back("x-amz-meta-" + k, v);
}

}  // namespace detail

using namespace detail;

Client::Client(S3Config config, ClientOptions options) : cfg_(std::move(config)), opts_(options) {
  const auto sep = cfg_.endpoint.find("://");
  scheme_ = sep == std::string::npos ? "http" : cfg_.endpoint.substr(0, sep);
  host_ = sep == std::string::npos ? cfg_.endpoint : cfg_.endpoint.substr(sep + 3);
  // Anything after the authority (a base path) is not supported; the bucket or key follows the host.
  if (const auto slash = host_.find('/'); slash != std::string::npos) host_.resize(slash);
}

std::chrono::milliseconds Client::transfer_timeout(size_t bytes) const {
  const auto rate = std::max<size_t>(opts_.min_bytes_per_second, 1);
  return opts_.request_timeout + std::chrono::milliseconds(bytes * 1000 / rate);
}

Result<http::Response> Client::execute(const Call& call, const Sink& sink) {
  // Path-style: host/bucket/key. Virtual-host: bucket.host/key.
  std::string host = host_;
  std::string path;
  if (cfg_.path_style) {
    path = "/" + cfg_.bucket + (call.key.empty() ? "" : "/" + call.key);
  } else {
    host = cfg_.bucket + "." + host_;
    path = "/" + call.key;
  }

  sigv4::Request sreq;
  sreq.method = call.method;
  sreq.path = path;
  sreq.query = call.query;
  const bool streamed = static_cast<bool>(call.open_body);
  // Streamed bodies are not hashed up front (that would read them twice); S3 accepts them unsigned.
  sreq.payload_hash = streamed ? std::string(sigv4::kUnsignedPayload) : digest::sha256_hex(call.body);
  const std::string date = sigv4::amz_date(std::chrono::system_clock::now());
  sreq.headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", sreq.payload_hash}};
  for (const auto& h : call.headers) sreq.headers.push_back(h);
  const sigv4::Signed sig = sigv4::sign(sreq, {cfg_.access_key, cfg_.secret_key}, cfg_.region, "s3", date);

  http::Request req;
  req.method = call.method;
  req.url = scheme_ + "://" + host + sigv4::canonical_uri(path);
  if (!call.query.empty()) req.url += "?" + sigv4::canonical_query(call.query);
  req.headers = sreq.headers;  // curl sends our Host header instead of its own, so it matches the signature
  req.headers.emplace_back("Authorization", sig.authorization);
  req.connect_timeout = opts_.connect_timeout;
  req.timeout = call.timeout.count() > 0 ? call.timeout : opts_.request_timeout;
  if (streamed) {
    req.body_reader = FP_TRY(call.open_body(), fmt::format("{} {}", call.method, call.key));
    req.body_size = call.body_size;
  } else {
    req.body = call.body;
  }
  return http::perform(req, sink);
}

Result<http::Response> Client::execute_with_retry(std::string_view what, const Call& call) {
  return retry<http::Response>(what, opts_.backoff, [&]() -> Result<http::Response> {
    http::Response resp = FP_TRY(execute(call), std::string(what));
    if (is_2xx(resp.status) || (call.accept && call.accept(resp))) return resp;
    return error_from_response(resp.status, resp.body, what);
  });
}

Status Client::create_bucket() {
  Call c;
  c.method = "PUT";
  // us-east-1 is the default location and must not be named in the body.
  if (cfg_.region != "us-east-1" && !cfg_.region.empty()) {
    c.body = fmt::format(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
        escape_markup(cfg_.region));
    c.headers.emplace_back("content-type", "application/xml");
  }
  c.accept = [](const http::Response& r) {
    const auto doc = parse_error(r.body);
    return r.status == 409 && doc && doc->code == "BucketAlreadyOwnedByYou";
  };
  FP_CHECK(execute_with_retry(fmt::format("create bucket {}", cfg_.bucket), c), "s3");
  return ok_status();
}

Result<bool> Client::bucket_exists() {
  Call c;
  c.method = "HEAD";
  c.accept = [](const http::Response& r) { return r.status == 404; };
  const http::Response r = FP_TRY(execute_with_retry(fmt::format("head bucket {}", cfg_.bucket), c), "s3");
  return r.status != 404;
}

Result<std::string> Client::put_object(std::string_view key, std::string_view bytes,
                                       std::string_view content_type, const Metadata& metadata) {
  FP_CHECK(validate_key(key), "put object");
  FP_CHECK(validate_metadata(metadata), fmt::format("put object {}", key));
  Call c;
  c.method = "PUT";
  c.key = std::string(key);
  c.body = std::string(bytes);
  c.timeout = transfer_timeout(bytes.size());
  c.headers.emplace_back("content-type", std::string(content_type));
  // S3 rejects the upload (BadDigest) if the bytes it received do not match.
  c.headers.emplace_back("content-md5", digest::base64(digest::md5(bytes)));
  add_metadata(c.headers, metadata);
  const http::Response r = FP_TRY(execute_with_retry(fmt::format("PUT {}", key), c), "s3");
  const std::string* etag = r.header("etag");
  if (!etag) return make_error("s3: PUT {}: answer has no ETag", key);
  return strip_quotes(*etag);
}

Result<std::string> Client::get_object(std::string_view key) {
  FP_CHECK(validate_key(key), "get object");
  Call c;
  c.key = std::string(key);
  c.timeout = opts_.download_timeout;
  http::Response r = FP_TRY(execute_with_retry(fmt::format("GET {}", key), c), "s3");
  return std::move(r.body);
}

Status Client::get_object(std::string_view key, const Sink& sink) {
  FP_CHECK(validate_key(key), "get object");
  Call c;
  c.key = std::string(key);
  c.timeout = opts_.download_timeout;
  const std::string what = fmt::format("GET {}", key);
  long long delivered = 0;
  bool sink_refused = false;
  bool interrupted = false;  // failed after the sink got bytes: must not be retried here
  const Sink counting = [&](const char* p, size_t n) {
    if (!sink(p, n)) {
      sink_refused = true;
      return false;
    }
    delivered += static_cast<long long>(n);
    return true;
  };
  auto result = retry<Ok>(what, opts_.backoff, [&]() -> Result<Ok> {
    auto r = execute(c, counting);
    if (sink_refused) return make_error("{}: the sink refused data after {} bytes", what, delivered);
    if (!r.ok() && delivered > 0) {
      // Retrying would hand the sink the first bytes again; stop, and let the caller start over.
      interrupted = true;
      return make_error("{}: interrupted after {} bytes: {}", what, delivered, r.error().message);
    }
    if (!r.ok()) return std::move(r).error();
    if (!is_2xx(r->status)) return error_from_response(r->status, r->body, what);
    return Ok{};
  });
  if (!result.ok()) {
    Error e = std::move(result).error().context("s3");
    if (interrupted) e.kind = Error::Kind::kTransient;
    return e;
  }
  return ok_status();
}

Result<ObjectHead> Client::head_object(std::string_view key) {
  FP_CHECK(validate_key(key), "head object");
  Call c;
  c.method = "HEAD";
  c.key = std::string(key);
  const http::Response r = FP_TRY(execute_with_retry(fmt::format("HEAD {}", key), c), "s3");
  ObjectHead h;
  if (const auto* v = r.header("content-length")) {
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), h.size);
    if (ec != std::errc() || p != v->data() + v->size())
      return make_error("s3: HEAD {}: bad Content-Length {:?}", key, *v);
  } else {
    return make_error("s3: HEAD {}: answer has no Content-Length", key);
  }
  if (const auto* v = r.header("etag")) h.etag = strip_quotes(*v);
  if (const auto* v = r.header("content-type")) h.content_type = *v;
  if (const auto* v = r.header("last-modified")) h.last_modified = *v;
  constexpr std::string_view kMeta = "x-amz-meta-";
  for (const auto& [name, value] : r.headers)  // names are lower-cased by the HTTP client
    if (name.starts_with(kMeta)) h.metadata[name.substr(kMeta.size())] = value;
  return h;
}

Status Client::delete_object(std::string_view key) {
  FP_CHECK(validate_key(key), "delete object");
  Call c;
  c.method = "DELETE";
  c.key = std::string(key);
  // S3 answers 204 for a missing key; some compatible servers say 404 NoSuchKey. Either way it is gone.
  c.accept = [](const http::Response& r) { return r.status == 404; };
  FP_CHECK(execute_with_retry(fmt::format("DELETE {}", key), c), "s3");
  return ok_status();
}

Result<std::string> Client::copy_object(std::string_view source_key, std::string_view dest_key) {
  FP_CHECK(validate_key(source_key), "copy object source");
  FP_CHECK(validate_key(dest_key), "copy object destination");
  Call c;
  c.method = "PUT";
  c.key = std::string(dest_key);
  c.headers.emplace_back("x-amz-copy-source",
                         "/" + cfg_.bucket + "/" + http::url_encode(source_key, /*keep_slash=*/true));
  c.headers.emplace_back("x-amz-metadata-directive", "COPY");
  c.timeout = opts_.download_timeout;  // server-side copy time grows with the object
  const std::string what = fmt::format("copy {} to {}", source_key, dest_key);
  // Like CompleteMultipartUpload, a copy can fail after S3 sent 200; the <Error> is in the body.
  return retry<std::string>(what, opts_.backoff, [&]() -> Result<std::string> {
    const http::Response r = FP_TRY(execute(c), what);
    if (!is_2xx(r.status)) return error_from_response(r.status, r.body, what);
    return FP_TRY(parse_result_etag(r.body, "CopyObjectResult"), what);
  });
}

Result<ListPage> Client::list_objects_v2(std::string_view prefix, std::string_view continuation_token,
                                         int max_keys, std::string_view start_after) {
  if (max_keys < 1 || max_keys > 1000) return invalid_input("max_keys {} outside 1..1000", max_keys);
  Call c;
  c.query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) c.query.emplace_back("prefix", std::string(prefix));
  if (!continuation_token.empty())
    c.query.emplace_back("continuation-token", std::string(continuation_token));
  if (!start_after.empty()) c.query.emplace_back("start-after", std::string(start_after));
  const std::string what = fmt::format("list {:?}", prefix);
  const http::Response r = FP_TRY(execute_with_retry(what, c), "s3");
  return FP_TRY(parse_list_v2(r.body), fmt::format("s3: {}", what));
}

Result<std::vector<ObjectSummary>> Client::list_all(std::string_view prefix, int page_size,
                                                    std::string_view start_after) {
  std::vector<ObjectSummary> all;
  std::string token;
  do {
    ListPage page = FP_TRY(list_objects_v2(prefix, token, page_size, start_after),
                           fmt::format("after {} keys", all.size()));
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(all));
    // A server that repeats a token would otherwise keep us here forever.
    if (page.truncated && page.next_continuation_token == token)
      return make_error("s3: list {:?}: continuation token did not advance", prefix);
    token = page.truncated ? page.next_continuation_token : "";
  } while (!token.empty());
  return all;
}

}  // namespace fp::s3
