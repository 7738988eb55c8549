#include "scheduler/schedule.h"

#include <charconv>

namespace fp::sched {

Result<std::chrono::milliseconds> parse_interval(std::string_view text) {
  using namespace std::chrono;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data())
    return invalid_input("interval '{}': expected e.g. 60s, 5m, 1h", text);
  const std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  milliseconds d;
  if (unit.empty() || unit == "s")
    d = seconds(n);
  else if (unit == "ms")
    d = milliseconds(n);
  else if (unit == "m")
    d = minutes(n);
  else if (unit == "h")
    d = hours(n);
  else
    return invalid_input("interval '{}': unknown unit '{}' (ms, s, m, h)", text, unit);
  if (d < seconds(1) || d > hours(24))
    return invalid_input("interval '{}': must be between 1s and 24h", text);
  return d;
}

Result<std::chrono::system_clock::time_point> Schedule::first(
    std::chrono::system_clock::time_point now) const {
  if (cron_) return cron_->next_after(now);
  return now;
}

Result<std::chrono::system_clock::time_point> Schedule::next(
    std::chrono::system_clock::time_point previous, std::chrono::system_clock::time_point now) const {
  if (cron_) return cron_->next_after(std::max(previous, now));
  auto t = previous + interval_;
  if (t <= now) {
    // Skip the ticks that passed during an overrunning run, keeping the original phase.
    const auto missed = (now - t) / interval_ + 1;
    t += missed * interval_;
  }
  return t;
}

std::string Schedule::describe() const {
  if (cron_) return fmt::format("cron '{}'", cron_->text());
  return fmt::format("every {} ms", interval_.count());
}

}  // namespace fp::sched
