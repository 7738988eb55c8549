// Request and Response helpers of the HTTP server (message.h).
#include "common/http/message.h"

#include <strings.h>

namespace fp::httpd {

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return &v;
  }
  return nullptr;
}

const std::string* Request::query_value(std::string_view name) const {
  const auto it = query.find(std::string(name));
  return it == query.end() ? nullptr : &it->second;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::html_page(int status, std::string body) {
  Response r = text(status, std::move(body));
  r.content_type = "text/html; charset=utf-8";
  r.header("Cache-Control", "no-store");
  return r;
}

Response Response::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  // replace: invalid UTF-8 from a data source must not turn into an exception here.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::event_stream(std::function<void(std::shared_ptr<SseStream>)> on_open) {
  Response r;
  r.content_type = "text/event-stream";
  r.on_event_stream = std::move(on_open);
  return r;
}

Response& Response::header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

}  // namespace fp::httpd
