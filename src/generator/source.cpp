#include "generator/source.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "generator/csv_parse.h"

namespace fp::gen {

namespace {

class CsvSource final : public Source {
 public:
  ~CsvSource() override {
    if (file_ && file_ != stdin) std::fclose(file_);
  }

  static Result<std::unique_ptr<Source>> open(const std::string& path) {
    auto s = std::make_unique<CsvSource>();
    s->path_ = path;
    if (path == "-") {
      s->file_ = stdin;
    } else {
      s->file_ = std::fopen(path.c_str(), "rb");
      if (!s->file_) return make_error("open {}: {}", path, std::strerror(errno));
      std::error_code ec;
      s->path_ = std::filesystem::weakly_canonical(path, ec).string();
      if (ec) s->path_ = path;
      struct stat st {};
      if (fstat(fileno(s->file_), &st) == 0 && S_ISREG(st.st_mode))
        s->size_ = static_cast<uint64_t>(st.st_size);
    }
    std::setvbuf(s->file_, nullptr, _IOFBF, 1 << 20);
    auto header = s->read_line();
    if (!header.ok()) return std::move(header).error().context(path);
    if (!*header) return invalid_input("{}: empty file (expected the header '{}')", path, trip::kCsvHeader);
    if (auto st = check_csv_header(s->view()); !st.ok())
      return std::move(st).error().context(fmt::format("{}: line 1", path));
    return std::unique_ptr<Source>(std::move(s));
  }

  Result<Next> next(trip::Measurement& m, std::string& reason) override {
    for (;;) {
      auto got = read_line();
      if (!got.ok()) return std::move(got).error();
      if (!*got) return Next::kEnd;
      if (too_long_) {
        reason = fmt::format("longer than {} bytes (the rest of the line was skipped)", kMaxLineBytes);
        return Next::kRejected;
      }
      const std::string_view line = view();
      if (line.empty() || line == "\r") continue;  // blank lines carry no row
      auto st = parse_csv_line(line, m);
      if (st.ok()) return Next::kRow;
      reason = st.error().message;
      return Next::kRejected;
    }
  }

  uint64_t position() const override { return lines_; }

  Status skip_to(uint64_t pos) override {
    while (lines_ < pos) {
      auto got = read_line();
      if (!got.ok()) return std::move(got).error();
      if (!*got)
        return make_error("{}: checkpoint is at line {} but the file has only {} lines", path_, pos, lines_);
    }
    return ok_status();
  }

  std::optional<double> done_fraction() const override {
    if (size_ == 0) return std::nullopt;
    return static_cast<double>(bytes_) / static_cast<double>(size_);
  }

  std::string describe() const override { return "csv:" + path_; }

 private:
  // A trips line is about 80 bytes; one past this is not one, and is read past rather than held (a file
  // without newlines must not become one allocation the size of the file).
  static constexpr size_t kMaxLineBytes = 64 * 1024;

  // The next line into line_ (its newline kept), at most kMaxLineBytes of it; too_long_ when cut.
  Result<bool> read_line() {
    line_.clear();
    too_long_ = false;
    bool any = false;
    errno = 0;
    for (int c; (c = getc_unlocked(file_)) != EOF;) {
      any = true;
      ++bytes_;
      if (!too_long_) {
        if (line_.size() > kMaxLineBytes) {
          too_long_ = true;
          line_.clear();
        } else {
          line_.push_back(static_cast<char>(c));
        }
      }
      if (c == '\n') break;
    }
    if (!any) {
      if (std::ferror(file_)) return make_error("read {}: {}", path_, std::strerror(errno));
      return false;
    }
    ++lines_;
    return true;
  }

  std::string_view view() const {
    std::string_view v(line_);
    if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
    return v;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  std::string line_;
  bool too_long_ = false;
  uint64_t lines_ = 0, bytes_ = 0, size_ = 0;
};

class SimSource final : public Source {
 public:
  SimSource(const SimOptions& o, uint64_t count) : options_(o), sim_(o), count_(count) {}

  Result<Next> next(trip::Measurement& m, std::string& reason) override {
    if (count_ > 0 && made_ >= count_) return Next::kEnd;
    sim_.next(m);
    ++made_;
    // The simulator keeps to the rules by construction; checking anyway keeps a bug from reaching a sink.
    if (auto st = validate(m); !st.ok()) {
      reason = st.error().message;
      return Next::kRejected;
    }
    return Next::kRow;
  }
  uint64_t position() const override { return made_; }
  Status skip_to(uint64_t pos) override {
    trip::Measurement m;
    while (made_ < pos) {
      sim_.next(m);
      ++made_;
    }
    return ok_status();
  }
  std::optional<double> done_fraction() const override {
    if (count_ == 0) return std::nullopt;
    return static_cast<double>(made_) / static_cast<double>(count_);
  }
  std::string describe() const override {
    return fmt::format("sim:seed={},vehicles={},first_vehicle_id={},start={},step={}", options_.seed,
                       options_.vehicles, options_.first_vehicle_id, trip::format_time(options_.start_time),
                       options_.step_seconds);
  }

 private:
  SimOptions options_;
  Simulator sim_;
  uint64_t count_;
  uint64_t made_ = 0;
};

}  // namespace

Result<std::unique_ptr<Source>> open_csv(const std::string& path) {
  return CsvSource::open(path);
}

std::unique_ptr<Source> make_simulator_source(const SimOptions& options, uint64_t count) {
  return std::make_unique<SimSource>(options, count);
}

}  // namespace fp::gen
