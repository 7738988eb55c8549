// What a compaction pass decides without the bucket: whether a day has closed, which of its objects are
// worth rewriting, and the id a line carries.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch/layout.h"

namespace fp::compact {

// An object a committed manifest vouches for: its entry and the transaction range of the run or compaction
// listing it.
struct Source {
  batch::ObjectEntry entry;
  int epoch = 1;
  uint64_t xid_from = 0, xid_to = 0;
};

// A day (YYYY-MM-DD, UTC) has closed once `after` has passed since its end. nullopt: not such a date.
std::optional<bool> day_closed(const std::string& dt, std::chrono::minutes after,
                               std::chrono::system_clock::time_point now);

// Of one table-day's objects, those to rewrite: smaller than half the target (larger ones are left as they
// are, so a late object does not make a day's large objects be rewritten), and only for a kind that has two
// or more such (one alone gains nothing). In key order.
std::vector<Source> choose_inputs(std::vector<Source> objects, int64_t target_bytes);

// The id a line starts with: export writes {"id":<n>, first in every object (common/batch/codec.h).
std::optional<int64_t> leading_id(std::string_view line);

}  // namespace fp::compact
