// Feedback for a long run: on a terminal, a progress line redrawn in place (rows, rate, rejected, and a bar
// with ETA when the total is known); otherwise a structured log line every few seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace fp::gen {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  // tty: draw on stderr; otherwise log every log_every.
  Progress(bool tty, std::chrono::milliseconds log_every = std::chrono::milliseconds(5000));

  void update(uint64_t delivered, uint64_t rejected, std::optional<double> fraction);
  // Clears the bar (before the summary is printed).
  void finish();

 private:
  bool tty_;
  std::chrono::milliseconds log_every_;
  Clock::time_point start_, last_draw_, last_log_;
  bool drawn_ = false;
};

}  // namespace fp::gen
