#include "common/disk_space.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fp {

Result<FilesystemSpace> filesystem_space(const std::filesystem::path& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0)
    return make_error("statvfs {}: {}", path.string(), std::strerror(errno));
  const auto unit = static_cast<int64_t>(st.f_frsize);
  FilesystemSpace out;
  out.total_bytes = static_cast<int64_t>(st.f_blocks) * unit;
  out.free_bytes = static_cast<int64_t>(st.f_bavail) * unit;
  out.used_bytes = (static_cast<int64_t>(st.f_blocks) - static_cast<int64_t>(st.f_bfree)) * unit;
  return out;
}

Result<TreeSize> tree_size(const std::filesystem::path& root, const TreeSizeLimits& limits) {
  namespace fs = std::filesystem;
  struct stat root_st {};
  if (lstat(root.c_str(), &root_st) != 0) {
    if (errno == ENOENT)
      return Error{fmt::format("{} does not exist", root.string()), Error::Kind::kNotFound};
    return make_error("stat {}: {}", root.string(), std::strerror(errno));
  }
  TreeSize out;
  out.bytes = static_cast<int64_t>(root_st.st_blocks) * 512;
  if (!S_ISDIR(root_st.st_mode)) {
    out.files = 1;
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + limits.time;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return make_error("read {}: {}", root.string(), ec.message());
  int64_t entries = 0;
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      // A directory that vanished or cannot be read mid-walk: what was counted stays a lower bound.
      out.complete = false;
      break;
    }
    // The clock is read every 256 entries: cheap, and the overshoot is a few hundred stat calls.
    if (++entries > limits.max_entries ||
        ((entries & 255) == 0 && std::chrono::steady_clock::now() > deadline)) {
      out.complete = false;
      break;
    }
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0) continue;  // removed since it was listed
    if (S_ISDIR(st.st_mode) && st.st_dev != root_st.st_dev) {
      it.disable_recursion_pending();  // a mount point: another filesystem's usage, not this tree's
      continue;
    }
    out.bytes += static_cast<int64_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode)) ++out.files;
  }
  // skip_permission_denied skips unreadable directories silently; a tree owned by another user (PostgreSQL's
  // data directory, mode 0700) is then incomplete, which the caller should know.
  if (access(root.c_str(), R_OK | X_OK) != 0) out.complete = false;
  return out;
}

}  // namespace fp
