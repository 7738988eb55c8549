// Parsing of the few S3 XML documents the client needs (errors, listings, multipart and copy results), and
// the mapping of S3 error answers to fp::Error kinds. Kept apart from the client so it is unit-testable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace fp::s3 {

struct ObjectSummary {
  std::string key;
  long long size = 0;
  std::string etag;  // without the surrounding quotes
  std::string last_modified;
};

struct ListPage {
  std::vector<ObjectSummary> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;  // set when truncated
};

struct ErrorDoc {
  std::string code;
  std::string message;
  std::string request_id;
};

struct CompletedPart {
  int number = 0;
  std::string etag;  // as returned by UploadPart (quotes stripped)
};

// <Error><Code>…</Code><Message>…</Message></Error>; nullopt when the body is not an S3 error document.
std::optional<ErrorDoc> parse_error(std::string_view xml);
// ListObjectsV2 answer (<ListBucketResult>).
Result<ListPage> parse_list_v2(std::string_view xml);
// <InitiateMultipartUploadResult><UploadId>.
Result<std::string> parse_upload_id(std::string_view xml);
// <CompleteMultipartUploadResult><ETag> or <CopyObjectResult><ETag>; S3 may answer 200 with an <Error>
// body for both, which is returned as an error here.
Result<std::string> parse_result_etag(std::string_view xml, std::string_view root);
// The CompleteMultipartUpload request body.
std::string complete_multipart_body(const std::vector<CompletedPart>& parts);

// The error for a non-2xx S3 answer: the S3 code and message when the body has them. NoSuchKey/NoSuchBucket/
// NoSuchUpload/404 are kNotFound; 5xx, 429, SlowDown, RequestTimeout and InternalError are kTransient.
Error error_from_response(long status, std::string_view body, std::string_view what);

// ETags arrive quoted ("\"abc\""); callers compare the bare value.
std::string strip_quotes(std::string_view s);

}  // namespace fp::s3
