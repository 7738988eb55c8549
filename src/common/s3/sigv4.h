// AWS Signature Version 4 (header-based, single chunk). The signer is a pure function of the request's parts,
// the credentials, the scope and the timestamp, so it is checked against AWS's published test vectors
// (tests/common/sigv4_test.cpp) without a network or a clock.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fp::sigv4 {

// The literal S3 accepts in x-amz-content-sha256 (and the canonical request) when the body is streamed and
// its hash is not known before sending.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key;
  std::string secret_key;
};

struct Request {
  std::string method;
  // The path as sent on the wire but NOT yet percent-encoded ("/bucket/my key"); the signer encodes each
  // segment once (S3 rules: '/' kept, everything but RFC 3986 unreserved characters encoded).
  std::string path = "/";
  // Query parameters, raw (not encoded). A parameter without a value ("?uploads") has an empty value.
  Pairs query;
  // Exactly the headers to sign, in any case and order; repeated names are joined with ','. Must include
  // host and x-amz-date; S3 also wants x-amz-content-sha256.
  Pairs headers;
  // Hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash;
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header value
};

// Signs `req`. `amz_date` is the x-amz-date value (yyyymmddThhmmssZ, UTC); its first 8 characters are the
// credential scope's date.
Signed sign(const Request& req, const Credentials& creds, std::string_view region, std::string_view service,
            std::string_view amz_date);

// The pieces of the canonical request, exposed so the HTTP layer builds the exact URL that was signed.
std::string canonical_uri(std::string_view raw_path);
std::string canonical_query(const Pairs& query);

// yyyymmddThhmmssZ for a point in time (UTC).
std::string amz_date(std::chrono::system_clock::time_point t);

}  // namespace fp::sigv4
