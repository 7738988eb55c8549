// An HTTP request as a handler sees it and the response it returns: the types shared by the server, the
// router, static files and every service's handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fp::httpd {

class SseStream;  // common/http/event_stream.h

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/api/vehicles/7/trips?from=2024-01-01"
  std::string path;    // percent-decoded path without the query: "/api/vehicles/7/trips"
  std::string route;   // the matched pattern: "/api/vehicles/{id}/trips"
  std::map<std::string, std::string> params;      // path parameters, percent-decoded: {"id": "7"}
  std::multimap<std::string, std::string> query;  // query string, percent-decoded ('+' is a space)
  Headers headers;                                // names lower-cased
  std::string body;
  std::string remote_address;  // peer IP address
  uint16_t remote_port = 0;

  // First value of a header (name case-insensitive) or query parameter; nullptr when absent.
  const std::string* header(std::string_view name) const;
  const std::string* query_value(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  Headers headers;  // extra headers; these override the server's security headers of the same name
  std::string body;
  // When set, the connection becomes a Server-Sent Events stream (see event_stream()).
  std::function<void(std::shared_ptr<SseStream>)> on_event_stream;

  static Response text(int status, std::string body);
  static Response json(int status, const nlohmann::json& body);
  // An HTML page that is never stored by a cache: every page fleetpipe renders shows live state or embeds a
  // per-client token.
  static Response html_page(int status, std::string body);
  // Takes the connection over as a text/event-stream. on_open runs on a worker thread once the stream
  // exists; keep the pointer to send() events later from any thread.
  static Response event_stream(std::function<void(std::shared_ptr<SseStream>)> on_open);
  Response& header(std::string name, std::string value);
};

using Handler = std::function<Response(const Request&)>;

}  // namespace fp::httpd
