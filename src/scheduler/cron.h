// A 5-field cron expression ("minute hour day-of-month month day-of-week") and the next time it fires.
//
// Each field is "*" or a comma list of items; an item is a value, a range "a-b", either followed by a step
// "/n", or "*/n". Months and weekdays accept three-letter English names (jan..dec, sun..sat, any case);
// weekday 7 is Sunday like 0. As in Vixie cron, when both day-of-month and day-of-week are restricted
// (neither starts with "*") a day matches if either does. Times are evaluated in the local time zone.
#pragma once

#include <bitset>
#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp::sched {

class CronExpr {
 public:
  static Result<CronExpr> parse(std::string_view expr);

  // The first matching minute strictly after `after` (seconds dropped), or an error when the expression
  // never matches within the next eight years (e.g. "0 0 31 2 *").
  Result<std::chrono::system_clock::time_point> next_after(std::chrono::system_clock::time_point after) const;

  // Whether the local calendar minute `tm` matches (seconds ignored).
  bool matches(const std::tm& tm) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool day_restricted_ = false;
  bool weekday_restricted_ = false;
};

}  // namespace fp::sched
