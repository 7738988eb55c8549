#include "common/http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace fp::http {
namespace {

std::once_flag g_curl_once;

struct CallbackState {
  Response* resp;
  const std::function<bool(const char*, size_t)>* sink;
  const Request* req;
  CURL* curl;
};

size_t on_body(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<CallbackState*>(user);
  const size_t n = size * nmemb;
  if (st->sink && *st->sink) {
    // Only a successful answer's body is payload; an error document (S3's <Error>, a proxy's 502 page) is
    // kept in Response::body for the caller to report instead of being mixed into the sink's data.
    long status = 0;
    curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return (*st->sink)(ptr, n) ? n : 0;
  }
  st->resp->body.append(ptr, n);
  return n;
}

size_t on_header(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<CallbackState*>(user);
  const size_t n = size * nmemb;
  std::string_view line(ptr, n);
  // A new status line (after a redirect or 100-continue) resets the headers seen so far.
  if (line.rfind("HTTP/", 0) == 0) {
    st->resp->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  st->resp->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

size_t on_read(char* buf, size_t size, size_t nitems, void* user) {
  auto* st = static_cast<CallbackState*>(user);
  return st->req->body_reader(buf, size * nitems);
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// libcurl's result code as Error::code.
std::string curl_code(CURLcode rc) {
  return fmt::format("curl:{}", static_cast<int>(rc));
}

}  // namespace

const std::string* Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return &v;
  return nullptr;
}

bool retryable_status(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

Result<Response> perform(const Request& req, const std::function<bool(const char*, size_t)>& sink) {
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  // A handle per call keeps this thread-safe; connection reuse matters little at our request rates,
  // and the S3 client keeps its own handle where it does.
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return make_error("{} {}: curl_easy_init failed", req.method, req.url);
  Response resp;
  CallbackState st{&resp, &sink, &req, curl.get()};
  std::unique_ptr<curl_slist, SlistDeleter> hdrs;
  for (const auto& [k, v] : req.headers) {
    const std::string line = v.empty() ? k + ";" : k + ": " + v;
    hdrs.reset(curl_slist_append(hdrs.release(), line.c_str()));
  }
  // Without this curl sends "Expect: 100-continue" for large bodies and waits for the server's answer.
  hdrs.reset(curl_slist_append(hdrs.release(), "Expect:"));

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (req.body_reader) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &st);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
  } else if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    const bool transient = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
                           rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_RECV_ERROR ||
                           rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
    return Error{fmt::format("{} {}: {}", req.method, req.url, curl_easy_strerror(rc)),
                 transient ? Error::Kind::kTransient : Error::Kind::kPermanent, curl_code(rc)};
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

bool is_connection_refused(const Error& e) {
  return e.code == curl_code(CURLE_COULDNT_CONNECT);
}

Result<Response> get(const std::string& url, std::chrono::milliseconds timeout) {
  Request r;
  r.url = url;
  r.timeout = timeout;
  return perform(r);
}

Result<Response> send(const std::string& method, const std::string& url, std::string body,
                      std::string content_type, std::chrono::milliseconds timeout) {
  Request r;
  r.method = method;
  r.url = url;
  r.body = std::move(body);
  r.timeout = timeout;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.headers.emplace_back("Accept", "application/json");
  return perform(r);
}

std::string url_encode(std::string_view s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace fp::http
