// Where rows come from: the seed's trips CSV or the simulator. A source has a position (CSV: lines read,
// header included; simulator: rows made) that is the run's checkpoint, and can skip ahead to one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/trip/measurement.h"
#include "generator/simulator.h"

namespace fp::gen {

class Source {
 public:
  enum class Next { kRow, kRejected, kEnd };
  virtual ~Source() = default;
  // The next row, or a rejected line (reason set, without the line number), or the end.
  virtual Result<Next> next(trip::Measurement& m, std::string& reason) = 0;
  virtual uint64_t position() const = 0;
  // Skips input until position() == pos (resume).
  virtual Status skip_to(uint64_t pos) = 0;
  // Share of the input consumed, when the total is known (ETA).
  virtual std::optional<double> done_fraction() const = 0;
  // Describes the source for the checkpoint and the default run id.
  virtual std::string describe() const = 0;
};

// Opens a CSV file ("-" for stdin) and checks its header.
Result<std::unique_ptr<Source>> open_csv(const std::string& path);

// The simulator, limited to `count` rows when count > 0.
std::unique_ptr<Source> make_simulator_source(const SimOptions& options, uint64_t count);

}  // namespace fp::gen
