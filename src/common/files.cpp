#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fp {

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(fmt::format("cannot read {}", path.string()), Error::Kind::kNotFound);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error("read {} failed", path.string());
  return std::move(ss).str();
}

namespace {

Status write_all(int fd, std::string_view content, const std::string& tmp) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("write {}: {}", tmp, std::strerror(errno));
    content.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) return make_error("write {}: fsync: {}", tmp, std::strerror(errno));
  return ok_status();
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view content, bool private_mode) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = path.string() + ".tmp";
  const mode_t mode = private_mode ? 0600 : 0644;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error("write {}: {}", tmp, std::strerror(errno));
  // The mode whatever the umask, and also when an earlier attempt left the temporary file behind.
  Status st = ::fchmod(fd, mode) == 0 ? write_all(fd, content, tmp)
                                      : make_error("write {}: chmod: {}", tmp, std::strerror(errno));
  if (::close(fd) != 0 && st.ok()) st = make_error("write {}: close: {}", tmp, std::strerror(errno));
  if (!st.ok()) {
    std::filesystem::remove(tmp, ec);
    return st;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error("rename {} -> {}: {}", tmp, path.string(), ec.message());
  return ok_status();
}

std::vector<std::string> last_lines(const std::filesystem::path& path, size_t n, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in || n == 0) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0));
  const size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string text(size - from, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  // A read that starts inside the file starts inside a line (or just after one): skip to the next line,
  // unless the window holds no other.
  if (from > 0)
    if (const auto nl = text.find('\n'); nl != std::string::npos && nl + 1 < text.size())
      text.erase(0, nl + 1);
  std::vector<std::string> lines;
  std::istringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  return lines;
}

}  // namespace fp
