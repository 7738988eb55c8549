// The objects one compaction writes for one kind (rows or tombstones) of one table and day: lines go in as
// they come (each object's lines in its order, objects in key order), are compressed into a temporary file
// and cut into a new object at a line boundary once the compressed size reaches the target. Each object is
// uploaded from its file (multipart when large), so memory stays at a buffer however large the day.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/error.h"
#include "common/s3/client.h"

namespace fp::compact {

struct OutputTarget {
  std::string prefix;
  std::string table;
  std::string dt;
  int64_t compaction = 0;
  batch::ObjectKind kind = batch::ObjectKind::kRows;
  int64_t target_bytes = 0;
  int gzip_level = 6;
  int first_part = 0;  // parts are numbered across both kinds of one compaction
};

// An object is also cut at this many uncompressed bytes: the loader refuses objects that inflate beyond its
// --max-object-bytes (4 GiB by default; load/loader.h), whatever their compressed size.
inline constexpr int64_t kMaxInflatedBytes = int64_t{2} << 30;

class CompactedObjects {
 public:
  CompactedObjects(s3::Client& s3, OutputTarget target);
  ~CompactedObjects();
  CompactedObjects(const CompactedObjects&) = delete;
  CompactedObjects& operator=(const CompactedObjects&) = delete;

  // One line (without its newline) whose row id is `id`.
  Status add(std::string_view line, int64_t id);
  // Uploads the object in hand, if any. The entries of every uploaded object are in written().
  Status finish();
  const std::vector<batch::ObjectEntry>& written() const { return written_; }

 private:
  Status open();
  Status spill();  // compressed bytes in memory -> the file (and the object's SHA-256)
  Status cut();    // ends the object, uploads it, removes the file

  s3::Client& s3_;
  const OutputTarget target_;
  batch::GzipWriter gz_;
  std::unique_ptr<batch::Sha256Stream> sha_;
  std::filesystem::path path_;
  int fd_ = -1;
  bool open_ = false;
  int64_t file_bytes_ = 0;
  int64_t rows_ = 0;
  int64_t inflated_ = 0;
  int64_t first_id_ = 0, last_id_ = 0;
  std::string pending_;  // uncompressed lines not yet handed to gzip
  std::vector<batch::ObjectEntry> written_;
};

}  // namespace fp::compact
