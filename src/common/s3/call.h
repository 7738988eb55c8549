// Internals of the S3 client shared by client.cpp (single requests) and upload.cpp (file and multipart
// uploads): the request description that execute() signs and sends, and the checks every operation makes.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/s3/client.h"
#include "common/s3/sigv4.h"

namespace fp::s3 {

// One S3 request before signing. Built per operation; signed afresh on every attempt (the date changes).
struct Client::Call {
  std::string method = "GET";
  std::string key;  // empty: the request addresses the bucket itself
  sigv4::Pairs query;
  http::Headers headers;  // extra headers; all are signed
  std::string body;
  // A streamed body: opens a fresh reader per attempt, since a retry must resend from the first byte.
  std::function<Result<std::function<size_t(char*, size_t)>>()> open_body;
  long long body_size = -1;
  std::chrono::milliseconds timeout{0};  // 0: ClientOptions::request_timeout
  // Non-2xx answers that mean success for this call (BucketAlreadyOwnedByYou, deleting a missing key).
  std::function<bool(const http::Response&)> accept;
};

namespace detail {

inline constexpr std::string_view kComponent = "s3";

bool is_2xx(long status);
// Keys are sent as URL paths; curl would collapse "." and ".." segments and change the key that was signed.
Status validate_key(std::string_view key);
Status validate_metadata(const Metadata& metadata);
void add_metadata(http::Headers& headers, const Metadata& metadata);

}  // namespace detail
}  // namespace fp::s3
