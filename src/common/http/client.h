// A small blocking HTTP client over libcurl, used for the Kafka Connect REST API, health checks and S3.
// Every request has a connect timeout and a total timeout; transport failures and 5xx/429 answers are
// reported as transient errors so callers can retry them with backoff.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace fp::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // When set, the request body is streamed from this callback instead of `body`
  // (fill up to `max` bytes into `buf`, return the count; 0 ends the body).
  std::function<size_t(char* buf, size_t max)> body_reader;
  long long body_size = -1;  // required with body_reader (Content-Length)
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{30000};
};

struct Response {
  long status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  const std::string* header(std::string_view name) const;
};

// Performs the request. A transport error (refused, timeout, DNS) is an Error; any HTTP status is a Response.
// When `sink` is given the body of a 2xx response is streamed to it instead of being kept in Response::body
// (return false from the sink to abort the transfer); other responses' bodies (error documents) are still
// kept in Response::body.
Result<Response> perform(const Request& req, const std::function<bool(const char*, size_t)>& sink = nullptr);

// Convenience: GET/PUT/POST/DELETE with a JSON or text body.
Result<Response> get(const std::string& url,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
Result<Response> send(const std::string& method, const std::string& url, std::string body,
                      std::string content_type = "application/json",
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));

// True for statuses worth retrying (429, 502, 503, 504).
bool retryable_status(long status);

// Nothing listened at the address (libcurl's CURLE_COULDNT_CONNECT, carried in Error::code).
bool is_connection_refused(const Error& e);

// Percent-encodes per RFC 3986 (unreserved characters kept); '/' kept when keep_slash.
std::string url_encode(std::string_view s, bool keep_slash = false);

}  // namespace fp::http
