// Progress of long work. On a terminal (stderr, text logs): one line redrawn in place with the count, the
// rate, an optional second count ("rejected") and, when the size is known, a bar with percentage and ETA.
// Otherwise: a structured log event every few seconds (and one at the end), so log shippers see it too.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace fp {

class Progress {
 public:
  struct Options {
    std::string unit = "rows";
    int64_t total = 0;         // 0 = unknown: no bar or ETA unless update() reports a fraction
    std::optional<bool> tty;   // draw on stderr; default: stderr is a terminal and the logs are text
    std::string second_count;  // the name of a second count shown beside the first ("rejected"), if any
    // finish(): print the final line (and log a final event), or only clear the line because the caller
    // prints its own summary.
    bool final_report = true;
  };

  Progress(std::string component, std::string label, Options options);
  Progress(std::string component, std::string label, int64_t total, std::string unit = "rows");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(int64_t n);
  // Sets the counts outright; `fraction` (0..1) where the caller knows how far along it is better than
  // done/total.
  void update(int64_t done, int64_t second = 0, std::optional<double> fraction = std::nullopt);
  void set_total(int64_t total) { o_.total = total; }
  // Ends the output as Options::final_report says; called by the destructor if not before.
  void finish();
  int64_t done() const { return done_; }

 private:
  void tick();
  void render(bool final);
  std::optional<double> fraction() const;

  std::string component_, label_;
  Options o_;
  int64_t done_ = 0, second_ = 0;
  std::optional<double> fraction_;
  bool drawn_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace fp
