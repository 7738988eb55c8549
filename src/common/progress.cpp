#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
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

Progress::Progress(std::string component, std::string label, Options options)
    : component_(std::move(component)),
      label_(std::move(label)),
      o_(std::move(options)),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {
  if (!o_.tty) o_.tty = isatty(STDERR_FILENO) == 1 && !log::json_mode();
}

Progress::Progress(std::string component, std::string label, int64_t total, std::string unit)
    : Progress(
          std::move(component), std::move(label),
          Options{
              .unit = std::move(unit), .total = total, .tty = {}, .second_count = {}, .final_report = true}) {
}

Progress::~Progress() {
  finish();
}

void Progress::add(int64_t n) {
  done_ += n;
  tick();
}

void Progress::update(int64_t done, int64_t second, std::optional<double> fraction) {
  done_ = done;
  second_ = second;
  fraction_ = fraction;
  tick();
}

void Progress::tick() {
  const auto now = std::chrono::steady_clock::now();
  const auto every = *o_.tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_ >= every) {
    last_ = now;
    render(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (o_.final_report) {
    render(true);
  } else if (*o_.tty && drawn_) {
    std::fputs("\r\033[2K", stderr);
    std::fflush(stderr);
  }
}

std::optional<double> Progress::fraction() const {
  if (fraction_) return std::clamp(*fraction_, 0.0, 1.0);
  if (o_.total > 0) return std::min(1.0, static_cast<double>(done_) / static_cast<double>(o_.total));
  return std::nullopt;
}

void Progress::render(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
  const auto frac = fraction();
  std::optional<double> eta;
  if (!final && frac && *frac > 0.001 && secs > 0.5) eta = secs * (1 - *frac) / *frac;
  const std::string second =
      o_.second_count.empty()
          ? ""
          : fmt::format("  {} {}", human_count(static_cast<double>(second_)), o_.second_count);
  if (*o_.tty) {
    std::string bar;
    if (frac) {
      const int width = 24, fill = static_cast<int>(*frac * width);
      bar = fmt::format("[{}{}] {:3.0f}% ", std::string(static_cast<size_t>(fill), '#'),
                        std::string(static_cast<size_t>(width - fill), '.'), *frac * 100);
    }
    const std::string eta_text = eta ? " ETA " + clock_text(*eta) : "";
    std::fprintf(stderr, "\r\033[2K%s %s%s %s  %s %s/s%s  %s%s%s", label_.c_str(), bar.c_str(),
                 human_count(static_cast<double>(done_)).c_str(), o_.unit.c_str(), human_count(rate).c_str(),
                 o_.unit.c_str(), second.c_str(), clock_text(secs).c_str(), eta_text.c_str(),
                 final ? "\n" : "");
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  nlohmann::json fields = {
      {"done", done_}, {"unit", o_.unit}, {"rate_per_s", static_cast<int64_t>(rate)}, {"elapsed_s", secs}};
  if (o_.total > 0) fields["total"] = o_.total;
  if (fraction_) fields["fraction"] = *frac;
  if (eta) fields["eta_s"] = static_cast<int64_t>(*eta);
  if (!o_.second_count.empty()) fields[o_.second_count] = second_;
  log::emit(log::Level::kInfo, component_, final ? label_ + " done" : label_ + " progress", fields);
}

}  // namespace fp
