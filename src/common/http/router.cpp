#include "common/http/router.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <set>

namespace fp::httpd {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '-'; });
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::multimap<std::string, std::string>> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.emplace(std::move(*key), std::move(*value));
  }
  return out;
}

bool accepts_encoding(std::string_view accept_encoding, std::string_view coding) {
  // Beast parses the list (token *( OWS ";" OWS param ), comma-separated; it stops at the first malformed
  // element); the q-value rule is ours: q=0, 0.0, 0.00, 0.000 refuse, any other digit makes it positive.
  namespace beast = boost::beast;
  const beast::string_view wanted(coding.data(), coding.size());
  std::optional<bool> named;  // what the list says of `coding` itself
  bool star = false;
  for (const auto& [name, params] : beast::http::ext_list({accept_encoding.data(), accept_encoding.size()})) {
    bool allowed = true;
    for (const auto& [param, value] : params) {
      if (beast::iequals(param, "q")) allowed = value.find_first_of("123456789") != beast::string_view::npos;
    }
    if (beast::iequals(name, wanted)) named = allowed;
    if (name == "*") star = allowed;
  }
  return named.value_or(star);
}

std::optional<std::vector<std::string>> split_path(std::string_view raw_path) {
  if (raw_path.empty() || raw_path[0] != '/') return std::nullopt;
  std::vector<std::string> segments;
  if (raw_path == "/") return segments;
  raw_path.remove_prefix(1);
  while (true) {
    const auto slash = raw_path.find('/');
    auto seg = percent_decode(raw_path.substr(0, slash), false);
    if (!seg) return std::nullopt;
    segments.push_back(std::move(*seg));
    if (slash == std::string_view::npos) break;
    raw_path.remove_prefix(slash + 1);
  }
  return segments;
}

Status Router::add(std::string method, std::string pattern, Handler handler) {
  if (!is_token(method))
    return invalid_input("route {} {}: method must be an upper-case token", method, pattern);
  if (!handler) return invalid_input("route {} {}: no handler", method, pattern);
  Route r{method, pattern, {}, std::move(handler)};
  if (pattern.empty() || pattern[0] != '/')
    return invalid_input("route pattern {:?} must start with '/'", pattern);
  std::set<std::string> names;
  std::string_view rest = std::string_view(pattern).substr(1);
  while (pattern != "/") {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      Segment::Kind kind = Segment::Kind::kParam;
      if (!name.empty() && name.back() == '*') {
        if (slash != std::string_view::npos) {
          return invalid_input("route {:?}: a {{name*}} segment must be the last one", pattern);
        }
        name.pop_back();
        kind = Segment::Kind::kRest;
      }
      if (name.empty() || !names.insert(name).second) {
        return invalid_input("route {:?}: empty or duplicate parameter name", pattern);
      }
      r.segments.push_back({kind, std::move(name)});
    } else if (seg.find_first_of("{}") != std::string_view::npos) {
      return invalid_input("route {:?}: braces must enclose a whole segment", pattern);
    } else {
      r.segments.push_back({Segment::Kind::kLiteral, std::string(seg)});
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  for (const auto& existing : routes_) {
    if (existing.method == r.method && existing.pattern == r.pattern) {
      return invalid_input("route {} {} is already registered", method, pattern);
    }
  }
  routes_.push_back(std::move(r));
  return ok_status();
}

std::optional<std::vector<int>> Router::rank(const Route& r, const std::vector<std::string>& segments,
                                             std::map<std::string, std::string>* params) {
  std::vector<int> ranks;
  for (size_t i = 0; i < r.segments.size(); ++i) {
    const Segment& s = r.segments[i];
    if (s.kind == Segment::Kind::kRest) {
      std::string joined;
      for (size_t j = i; j < segments.size(); ++j) joined += (j > i ? "/" : "") + segments[j];
      if (params) (*params)[s.text] = std::move(joined);
      ranks.push_back(0);
      return ranks;
    }
    if (i >= segments.size()) return std::nullopt;
    if (s.kind == Segment::Kind::kLiteral) {
      if (s.text != segments[i]) return std::nullopt;
      ranks.push_back(2);
    } else {
      // An empty segment ("/vehicles//trips") is not a parameter value.
      if (segments[i].empty()) return std::nullopt;
      if (params) (*params)[s.text] = segments[i];
      ranks.push_back(1);
    }
  }
  if (segments.size() != r.segments.size()) return std::nullopt;
  return ranks;
}

Router::Match Router::match(std::string_view method, const std::vector<std::string>& segments) const {
  Match m;
  const Route* best = nullptr;
  std::vector<int> best_rank;
  const Route* head_fallback = nullptr;
  std::vector<int> head_rank;
  std::set<std::string> allowed;
  for (const auto& r : routes_) {
    auto ranks = rank(r, segments, nullptr);
    if (!ranks) continue;
    allowed.insert(r.method);
    if (r.method == "GET") allowed.insert("HEAD");
    if (r.method == method && (!best || *ranks > best_rank)) {
      best = &r;
      best_rank = std::move(*ranks);
    } else if (method == "HEAD" && r.method == "GET" && (!head_fallback || *ranks > head_rank)) {
      head_fallback = &r;
      head_rank = std::move(*ranks);
    }
  }
  if (!best) best = head_fallback;
  if (best) {
    m.outcome = Outcome::kFound;
    m.handler = &best->handler;
    m.pattern = &best->pattern;
    (void)rank(*best, segments, &m.params);
    return m;
  }
  if (allowed.empty()) return m;
  m.outcome = Outcome::kMethodNotAllowed;
  for (const auto& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
  return m;
}

}  // namespace fp::httpd
