// Request routing for the HTTP server: method + path patterns with parameters, and the percent-decoding of
// paths and query strings. Pure functions and data, so they are unit-testable without sockets.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/http/message.h"

namespace fp::httpd {

// Decodes %XX escapes (and '+' as a space when plus_is_space, as in query strings). nullopt on a malformed
// escape, so a bad request is answered 400 instead of being routed with a guessed meaning.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y&flag" -> {a:1, b:"x y", flag:""}; nullopt on a malformed escape.
std::optional<std::multimap<std::string, std::string>> parse_query(std::string_view query);

// "/a/b%2Fc/" -> {"a", "b/c", ""}: split first, decode each segment, so an encoded '/' stays in its segment.
std::optional<std::vector<std::string>> split_path(std::string_view raw_path);

// Whether an Accept-Encoding value allows `coding` (case-insensitive): listed, or covered by "*", with a
// q-value above 0. "gzip;q=0" refuses it even when "*" is listed.
bool accepts_encoding(std::string_view accept_encoding, std::string_view coding);

class Router {
 public:
  Status add(std::string method, std::string pattern, Handler handler);

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Handler* handler = nullptr;      // kFound
    const std::string* pattern = nullptr;  // kFound
    std::map<std::string, std::string> params;
    std::string allow;  // kMethodNotAllowed: "GET, HEAD, POST"
  };
  // HEAD falls back to the GET route. Literal segments beat parameters, which beat a trailing wildcard.
  Match match(std::string_view method, const std::vector<std::string>& segments) const;

 private:
  struct Segment {
    enum class Kind { kLiteral, kParam, kRest } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };
  // Per-segment ranks of a match (higher is more specific), or nullopt when the route does not match.
  static std::optional<std::vector<int>> rank(const Route& r, const std::vector<std::string>& segments,
                                              std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

}  // namespace fp::httpd
