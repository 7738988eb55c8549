// Static file serving for the HTTP server: safe path resolution under a root directory, content types,
// ETag/Last-Modified validators with 304 answers, and Cache-Control.
#pragma once

#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/http/message.h"

namespace fp::httpd {

struct StaticOptions {
  // Hashed bundles can use "public, max-age=31536000, immutable"; the default makes browsers revalidate,
  // which is cheap thanks to ETag/304.
  std::string cache_control = "no-cache";
  std::string index_file = "index.html";
};

// Content type by file extension; application/octet-stream when unknown.
std::string_view content_type_for(const std::filesystem::path& file);

// Serves `relative` (already percent-decoded, '/'-separated) from `root` (canonical). Segments starting with
// '.' (which covers "..", and hides dotfiles such as .env), backslashes, NULs and symlinks leading out of
// root are refused with 404, as are missing files. A directory serves its index file.
Response serve_file(const std::filesystem::path& root, std::string_view relative, const Request& req,
                    const StaticOptions& options);

// Where a service's bundled front end lives: `relative` (e.g. "web/console") under the working directory (a
// checkout), else beside the binary's parent directory (build/fleetpipe -> <checkout>/web/...); `relative`
// unchanged when neither exists, so the caller's error names the path it looked for.
std::filesystem::path find_asset_dir(const std::filesystem::path& relative);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate).
std::string http_date(time_t t);

}  // namespace fp::httpd
