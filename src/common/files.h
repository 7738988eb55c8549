// Whole small files: reading one into memory, and replacing one so that readers never see half of it; the
// last lines of a log.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace fp {

// The file's bytes. A file that cannot be opened is kNotFound ("cannot read <path>").
Result<std::string> read_file(const std::filesystem::path& path);

// Replaces the file's content at once: writes <path>.tmp (creating the directory if needed), flushes it to
// disk and renames it over path, so a reader sees the old content or the new, never a mix. private_mode
// makes the file 0600 (secrets), else it is 0644.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         bool private_mode = false);

// The last `n` complete lines of a file, read from at most its last `max_bytes` (a log of any size costs
// the same); a line longer than that is cut at its start. Empty when the file is empty or missing.
std::vector<std::string> last_lines(const std::filesystem::path& path, size_t n, size_t max_bytes = 16384);

}  // namespace fp
