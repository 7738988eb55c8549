// How much disk a directory tree takes and how much its filesystem has left: statvfs for the filesystem, a
// walk summing allocated blocks for a tree. A walk is bounded by a time budget and an entry count, so a huge
// tree costs a known amount and reports a lower bound instead of blocking its caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "common/error.h"

namespace fp {

struct FilesystemSpace {
  int64_t total_bytes = 0;
  int64_t free_bytes = 0;  // what an unprivileged process may still write (f_bavail)
  int64_t used_bytes = 0;  // total - free blocks (f_bfree): blocks reserved for root count as free
};

// The filesystem holding `path` (statvfs).
Result<FilesystemSpace> filesystem_space(const std::filesystem::path& path);

struct TreeSize {
  int64_t bytes = 0;  // allocated on disk (st_blocks × 512): sparse files count what they really use
  int64_t files = 0;
  // False when the walk stopped early (time or entry budget) or could not read a directory: `bytes` is
  // then a lower bound.
  bool complete = true;
};

struct TreeSizeLimits {
  std::chrono::milliseconds time{2000};
  int64_t max_entries = 500000;
};

// Every file under `root`, symbolic links not followed, other filesystems not entered. kNotFound when root
// does not exist.
Result<TreeSize> tree_size(const std::filesystem::path& root, const TreeSizeLimits& limits = {});

}  // namespace fp
