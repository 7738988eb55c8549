#include "common/http/static_files.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace fp::httpd {
namespace {

namespace fs = std::filesystem;

bool inside(const fs::path& root, const fs::path& p) {
  const auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

// Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  auto strip = [](std::string_view t) {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.rfind("W/", 0) == 0) t.remove_prefix(2);
    return t;
  };
  etag = strip(etag);
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    const auto candidate = strip(if_none_match.substr(0, comma));
    if (candidate == "*" || candidate == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<time_t> parse_http_date(const std::string& s) {
  tm t{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &t);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return timegm(&t);
}

Response not_found() {
  return Response::text(404, "not found\n");
}

}  // namespace

std::string_view content_type_for(const fs::path& file) {
  const std::string ext = file.extension().string();
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  for (const auto& [e, type] : kTypes) {
    if (ext.size() == e.size() && std::equal(ext.begin(), ext.end(), e.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::string http_date(time_t t) {
  tm g{};
  gmtime_r(&t, &g);
  char buf[64];
  // strftime's %a/%b follow the C locale, which the process never changes, giving the English names HTTP
  // needs.
  const size_t n = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
  return std::string(buf, n);
}

Response serve_file(const fs::path& root, std::string_view relative, const Request& req,
                    const StaticOptions& options) {
  fs::path p = root;
  std::string_view rest = relative;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (!seg.empty()) {
      if (seg.front() == '.' || seg.find('\\') != std::string_view::npos ||
          seg.find('\0') != std::string_view::npos) {
        return not_found();
      }
      p /= seg;
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::error_code ec;
  // Resolving symlinks catches a link inside root that points outside it.
  fs::path resolved = fs::canonical(p, ec);
  if (ec || !inside(root, resolved)) return not_found();
  if (fs::is_directory(resolved, ec)) {
    resolved = fs::canonical(resolved / options.index_file, ec);
    if (ec || !inside(root, resolved)) return not_found();
  }
  struct stat st {};
  if (stat(resolved.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return not_found();

  const std::string etag =
      fmt::format("\"{:x}-{:x}{:09x}\"", static_cast<unsigned long long>(st.st_size),
                  static_cast<long long>(st.st_mtim.tv_sec), static_cast<long long>(st.st_mtim.tv_nsec));
  const std::string last_modified = http_date(st.st_mtim.tv_sec);
  Response r;
  r.header("ETag", etag)
      .header("Last-Modified", last_modified)
      .header("Cache-Control", options.cache_control);
  r.content_type = std::string(content_type_for(resolved));

  bool not_modified = false;
  if (const auto* inm = req.header("if-none-match")) {
    not_modified = etag_matches(*inm, etag);
  } else if (const auto* ims = req.header("if-modified-since")) {
    // Only consulted without If-None-Match, as RFC 9110 13.2.2 requires.
    const auto since = parse_http_date(*ims);
    not_modified = since && st.st_mtim.tv_sec <= *since;
  }
  if (not_modified) {
    r.status = 304;
    return r;
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) return not_found();
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return Response::text(500, "read error\n");
  return r;
}

std::filesystem::path find_asset_dir(const std::filesystem::path& relative) {
  std::error_code ec;
  if (std::filesystem::is_directory(relative, ec)) return relative;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto candidate = exe.parent_path().parent_path() / relative;
    if (std::filesystem::is_directory(candidate, ec)) return candidate;
  }
  return relative;
}

}  // namespace fp::httpd
