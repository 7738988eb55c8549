// Progress of long batch work: on a terminal a single redrawn line with count, percentage, rate and ETA;
// otherwise a structured log event every few seconds (and one at the end), so log shippers see progress too.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fp {

class Progress {
 public:
  // total 0 = unknown (no percentage or ETA).
  Progress(std::string component, std::string label, int64_t total, std::string unit = "rows");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(int64_t n);
  void set_total(int64_t total) { total_ = total; }
  // Prints the final line / event; called by the destructor if not before.
  void finish();
  int64_t done() const { return done_; }

 private:
  void render(bool final);
  std::string component_, label_, unit_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  bool tty_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace fp
