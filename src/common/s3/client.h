// A small S3 client over libcurl (common/http/client.h) with SigV4 signing (s3/sigv4.h), enough for the
// pipeline's object store: single and multipart uploads, downloads (whole or streamed), head, delete, copy,
// ListObjectsV2 with pagination, and bucket creation. Every request has a timeout; transient failures
// (transport errors, 5xx, SlowDown) are retried with fp::retry; S3 error answers become fp::Error values that
// carry the S3 code and message (NoSuchKey -> kNotFound). No method throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/http/client.h"
#include "common/retry.h"
#include "common/s3/xml.h"

namespace fp::s3 {

// User metadata (x-amz-meta-<name>); names are lower-cased by S3.
using Metadata = std::map<std::string, std::string>;
// Fills up to `max` bytes into `buf` and returns the count; 0 means end of data.
using Reader = std::function<Result<size_t>(char* buf, size_t max)>;
// Receives downloaded bytes in order; return false to abort the download.
using Sink = std::function<bool(const char* data, size_t len)>;

struct ObjectHead {
  long long size = 0;
  std::string etag;  // without quotes
  std::string content_type;
  std::string last_modified;
  Metadata metadata;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3000};
  // Timeout of a request without a large body (metadata calls, listings, small objects).
  std::chrono::milliseconds request_timeout{30000};
  // Transfers get request_timeout plus the time to move their bytes at this (pessimistic) rate, so a
  // 20 MiB part is not cut off by a timeout meant for a HEAD.
  size_t min_bytes_per_second = 1 << 20;
  // Timeout of a streamed download whose size is not known up front.
  std::chrono::milliseconds download_timeout{std::chrono::minutes(10)};
  // put_large switches to multipart above this; also the part size (S3's minimum part is 5 MiB).
  size_t part_size = 8u << 20;
  Backoff backoff{};
};

class Client {
 public:
  explicit Client(S3Config config, ClientOptions options = {});

  const S3Config& config() const { return cfg_; }
  const std::string& bucket() const { return cfg_.bucket; }

  // Creates the configured bucket; an existing bucket we own counts as success.
  Status create_bucket();
  Result<bool> bucket_exists();

  // Single PUT of an in-memory body, signed with its SHA-256 and checked by S3 against Content-MD5.
  // Returns the ETag (without quotes).
  Result<std::string> put_object(std::string_view key, std::string_view bytes,
                                 std::string_view content_type = "application/octet-stream",
                                 const Metadata& metadata = {});
  // Uploads a file without loading it whole: one streamed PUT (UNSIGNED-PAYLOAD) up to part_size,
  // multipart above it.
  Result<std::string> put_object_from_file(std::string_view key, const std::filesystem::path& path,
                                           std::string_view content_type = "application/octet-stream",
                                           const Metadata& metadata = {});
  // Uploads a stream of unknown length: a single PUT if it ends within part_size, otherwise a multipart
  // upload in part_size parts (aborted if any step fails, so no orphaned parts are left behind).
  Result<std::string> put_large(std::string_view key, const Reader& reader,
                                std::string_view content_type = "application/octet-stream",
                                const Metadata& metadata = {});

  Result<std::string> get_object(std::string_view key);
  // Streams the object to `sink`. Failures before the first byte are retried; a transfer that breaks after
  // bytes were delivered is not (the sink would see them twice) and returns a transient error, so the
  // caller can start over with a fresh sink.
  Status get_object(std::string_view key, const Sink& sink);
  // kNotFound when the object does not exist.
  Result<ObjectHead> head_object(std::string_view key);
  // Deleting a missing key succeeds (S3 semantics).
  Status delete_object(std::string_view key);
  // Server-side copy within the bucket (e.g. to a quarantine prefix); metadata is copied. Returns the ETag.
  Result<std::string> copy_object(std::string_view source_key, std::string_view dest_key);

  // One ListObjectsV2 page; pass the previous page's next_continuation_token to continue. With
  // `start_after`, only keys that sort after it (the listing is in key order), so a caller that knows where
  // its history ends lists only what came since.
  Result<ListPage> list_objects_v2(std::string_view prefix, std::string_view continuation_token = {},
                                   int max_keys = 1000, std::string_view start_after = {});
  // Every object under `prefix` (after `start_after`), following pagination.
  Result<std::vector<ObjectSummary>> list_all(std::string_view prefix, int page_size = 1000,
                                              std::string_view start_after = {});

  // Multipart primitives (put_large drives them).
  Result<std::string> create_multipart_upload(std::string_view key, std::string_view content_type,
                                              const Metadata& metadata);
  Result<std::string> upload_part(std::string_view key, std::string_view upload_id, int part_number,
                                  std::string_view bytes);
  Result<std::string> complete_multipart_upload(std::string_view key, std::string_view upload_id,
                                                const std::vector<CompletedPart>& parts);
  Status abort_multipart_upload(std::string_view key, std::string_view upload_id);

 private:
  struct Call;  // one signed request, defined in call.h
  Result<http::Response> execute(const Call& call, const Sink& sink = nullptr);
  Result<http::Response> execute_with_retry(std::string_view what, const Call& call);
  Result<std::string> upload_multipart(std::string_view key, const Reader& reader, std::string first_part,
                                       std::string_view content_type, const Metadata& metadata);
  std::chrono::milliseconds transfer_timeout(size_t bytes) const;

  S3Config cfg_;
  ClientOptions opts_;
  std::string scheme_;
  std::string host_;  // host[:port] of the endpoint
};

}  // namespace fp::s3
