// Writing to the partitioned `trips` table (sql/webapp/010_trips_partitioned.sql): a row lands in the
// partition that covers its measurement_time, and partitions are made on demand by the database function
// trip_partitions_ensure. A writer asks for the minutes it is about to write before its transaction (a
// partition is attached in a transaction of its own, so no writer ever waits on another's batch), and
// remembers for a minute which minutes it asked for, so a steady stream costs one call a minute, not one
// a batch. A row no partition covers still goes in, to the default partition, so a stale memory loses
// nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/pg/params.h"

namespace fp::trip {

// Whether the connected database has the function (a schema made by older migrations, or a test's copy of
// the first ones, has a plain table: then there is nothing to ensure).
inline constexpr const char* kHasPartitionsSql =
    "SELECT to_regprocedure('trip_partitions_ensure(timestamp[])') IS NOT NULL";
inline constexpr const char* kEnsurePartitionsSql = "SELECT trip_partitions_ensure($1::timestamp[])";

class PartitionMinutes {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PartitionMinutes(std::chrono::seconds remember = std::chrono::seconds(60)) : remember_(remember) {}

  struct Due {
    std::vector<int64_t> minutes;   // epoch seconds / 60
    std::vector<std::string> text;  // the same minutes as "YYYY-MM-DD HH:MM:00" (UTC)
  };
  // The minutes of `times` (epoch seconds, UTC) not asked for within the last `remember`, each once; marks
  // them asked for at `now`. Empty: nothing to ask.
  Due due(std::span<const int64_t> times, Clock::time_point now = Clock::now());
  // The call failed: ask again for these next time.
  void forget(const std::vector<int64_t>& minutes);
  size_t remembered() const { return asked_.size(); }

 private:
  std::chrono::seconds remember_;
  std::map<int64_t, Clock::time_point> asked_;  // minute -> when it was asked for
};

// Asks `db` (a pg::Connection or pg::Client) for partitions covering `times`, in a statement of its own
// (autocommit): call it outside the writer's transaction. `available` caches kHasPartitionsSql's answer.
template <typename Db>
Status ensure_partitions(Db& db, PartitionMinutes& minutes, std::optional<bool>& available,
                         std::span<const int64_t> times) {
  if (!available) {
    auto r = FP_TRY(db.query_params(kHasPartitionsSql, {}), "look for trip_partitions_ensure");
    available = FP_TRY(r.template get<bool>(0, 0), "trip_partitions_ensure");
  }
  if (!*available) return ok_status();
  auto due = minutes.due(times);
  if (due.minutes.empty()) return ok_status();
  auto made = db.query_params(kEnsurePartitionsSql, {pg::array_param(due.text)});
  if (!made) {
    minutes.forget(due.minutes);
    return std::move(made).error().context("make partitions of trips");
  }
  return ok_status();
}

}  // namespace fp::trip
