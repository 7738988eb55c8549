#include "generator/progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "common/log.h"

namespace fp::gen {

namespace {
std::string hms(double s) {
  const auto t = static_cast<int64_t>(s + 0.5);
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}
}  // namespace

Progress::Progress(bool tty, std::chrono::milliseconds log_every)
    : tty_(tty), log_every_(log_every), start_(Clock::now()), last_draw_(start_), last_log_(start_) {}

void Progress::update(uint64_t delivered, uint64_t rejected, std::optional<double> fraction) {
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(delivered) / elapsed : 0;
  std::optional<double> eta;
  if (fraction && *fraction > 0.001 && elapsed > 0.5) eta = elapsed * (1 - *fraction) / *fraction;
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(200) && drawn_) return;
    last_draw_ = now;
    std::string line = fmt::format("\r{:>12L} rows  {:>9.0f} rows/s  {} rejected", delivered, rate, rejected);
    if (fraction) {
      const int width = 24, filled = static_cast<int>(*fraction * width + 0.5);
      line += fmt::format("  [{}{}] {:5.1f}%", std::string(static_cast<size_t>(std::min(filled, width)), '#'),
                          std::string(static_cast<size_t>(width - std::min(filled, width)), '.'),
                          *fraction * 100);
      if (eta) line += fmt::format("  ETA {}", hms(*eta));
    }
    line += "\x1b[K";  // clear what a longer previous line left
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  if (now - last_log_ < log_every_) return;
  last_log_ = now;
  nlohmann::json fields = {
      {"rows", delivered}, {"rejected", rejected}, {"rows_per_second", static_cast<int64_t>(rate)}};
  if (fraction) fields["done"] = *fraction;
  if (eta) fields["eta_seconds"] = static_cast<int64_t>(*eta);
  log::emit(log::Level::kInfo, "generate", "progress", fields);
}

void Progress::finish() {
  if (tty_ && drawn_) {
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
  }
}

}  // namespace fp::gen
