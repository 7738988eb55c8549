#include "compact/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/batch/compaction.h"
#include "common/log.h"

namespace fp::compact {
namespace {

constexpr size_t kBatch = 1 << 20;  // uncompressed bytes handed to gzip at once

Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("write a compacted object's temporary file: {}", std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

}  // namespace

CompactedObjects::CompactedObjects(s3::Client& s3, OutputTarget target)
    : s3_(s3), target_(std::move(target)), gz_(target_.gzip_level) {}

CompactedObjects::~CompactedObjects() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
}

Status CompactedObjects::open() {
  // mkstemp(3) replaces the template's six trailing X with a unique name and creates the file 0600.
  std::string tmpl = (std::filesystem::temp_directory_path() / "fleetpipe-compact-XXXXXX").string();
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) return make_error("create a temporary file for a compacted object: {}", std::strerror(errno));
  path_ = tmpl;
  sha_ = std::make_unique<batch::Sha256Stream>();
  gz_.reset();
  open_ = true;
  file_bytes_ = rows_ = inflated_ = 0;
  return ok_status();
}

Status CompactedObjects::spill() {
  if (!pending_.empty()) FP_CHECK(gz_.write(pending_), "compress");
  pending_.clear();
  std::string& out = gz_.out();
  if (out.empty()) return ok_status();
  sha_->update(out);
  FP_CHECK(write_all(fd_, out), "spill");
  file_bytes_ += static_cast<int64_t>(out.size());
  out.clear();
  return ok_status();
}

Status CompactedObjects::add(std::string_view line, int64_t id) {
  if (!open_) FP_CHECK(open(), "open");
  pending_.append(line);
  pending_.push_back('\n');
  first_id_ = rows_ == 0 ? id : std::min(first_id_, id);
  last_id_ = rows_ == 0 ? id : std::max(last_id_, id);
  ++rows_;
  inflated_ += static_cast<int64_t>(line.size()) + 1;
  if (pending_.size() >= kBatch) {
    FP_CHECK(spill(), "compress");
    // Cut between lines once the compressed object reached its target (or inflates to the loader's bound).
    if (file_bytes_ >= target_.target_bytes || inflated_ >= kMaxInflatedBytes) FP_CHECK(cut(), "cut");
  }
  return ok_status();
}

Status CompactedObjects::finish() {
  if (open_ && rows_ > 0) return cut();
  return ok_status();
}

Status CompactedObjects::cut() {
  FP_CHECK(spill(), "spill");
  FP_CHECK(gz_.finish(), "compress");
  FP_CHECK(spill(), "spill");  // the end of the stream
  ::close(fd_);
  fd_ = -1;
  open_ = false;
  batch::ObjectEntry e;
  e.kind = target_.kind;
  e.table = target_.table;
  e.dt = target_.dt;
  e.first_id = first_id_;
  e.last_id = last_id_;
  e.rows = rows_;
  e.bytes = file_bytes_;
  e.sha256 = sha_->hex_digest();
  const int part = target_.first_part + static_cast<int>(written_.size());
  e.key = batch::compacted_key(target_.prefix, target_.table, target_.dt, first_id_, last_id_,
                               target_.compaction, part, target_.kind);
  const s3::Metadata meta = {{"sha256", e.sha256},
                             {"rows", std::to_string(e.rows)},
                             {"kind", std::string(batch::kind_name(e.kind))},
                             {"table", e.table},
                             {"compaction", std::to_string(target_.compaction)}};
  auto etag = s3_.put_object_from_file(e.key, path_, "application/gzip", meta);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  path_.clear();
  if (!etag) return std::move(etag).error().context(e.key);
  log::debug("compact", "wrote {} ({} lines, {} bytes)", e.key, e.rows, e.bytes);
  written_.push_back(std::move(e));
  return ok_status();
}

}  // namespace fp::compact
