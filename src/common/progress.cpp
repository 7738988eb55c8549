#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "common/log.h"

namespace fp {

namespace {

std::string human_count(double v) {
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace

Progress::Progress(std::string component, std::string label, int64_t total, std::string unit)
    : component_(std::move(component)),
      label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(isatty(STDERR_FILENO) == 1 && !log::json_mode()),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() {
  finish();
}

void Progress::add(int64_t n) {
  done_ += n;
  const auto now = std::chrono::steady_clock::now();
  const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_ >= every) {
    last_ = now;
    render(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  render(true);
}

void Progress::render(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
  if (tty_) {
    std::string bar;
    if (total_ > 0) {
      const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
      const int width = 24, fill = static_cast<int>(frac * width);
      bar = fmt::format("[{}{}] {:3.0f}% ", std::string(static_cast<size_t>(fill), '#'),
                        std::string(static_cast<size_t>(width - fill), '.'), frac * 100);
    }
    std::string eta;
    if (!final && total_ > 0 && rate > 0)
      eta = " ETA " + clock_text(static_cast<double>(std::max<int64_t>(0, total_ - done_)) / rate);
    std::fprintf(stderr, "\r\033[2K%s %s%s %s  %s %s/s  %s%s%s", label_.c_str(), bar.c_str(),
                 human_count(static_cast<double>(done_)).c_str(), unit_.c_str(), human_count(rate).c_str(),
                 unit_.c_str(), clock_text(secs).c_str(), eta.c_str(), final ? "\n" : "");
    std::fflush(stderr);
    return;
  }
  nlohmann::json fields = {
      {"done", done_}, {"unit", unit_}, {"rate_per_s", static_cast<int64_t>(rate)}, {"elapsed_s", secs}};
  if (total_ > 0) fields["total"] = total_;
  log::emit(log::Level::kInfo, component_, final ? label_ + " done" : label_ + " progress", fields);
}

}  // namespace fp
