#include "scheduler/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace fp::sched {
namespace {

struct FieldSpec {
  std::string_view name;
  int min, max;
  const std::array<std::string_view, 12>* names;  // names[i] is the value min + i; nullptr if none
  int name_base;                                  // value of names[0]
};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Result<int> parse_value(std::string_view text, const FieldSpec& f) {
  if (text.empty()) return invalid_input("{}: empty value", f.name);
  if (f.names && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t i = 0; i < f.names->size(); ++i)
      if (!(*f.names)[i].empty() && (*f.names)[i] == lower) return f.name_base + static_cast<int>(i);
    return invalid_input("{}: unknown name '{}'", f.name, text);
  }
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    return invalid_input("{}: '{}' is not a number", f.name, text);
  if (v < f.min || v > f.max) return invalid_input("{}: {} is outside {}..{}", f.name, v, f.min, f.max);
  return v;
}

// Sets bits [min..max] of `out` (as ints) for one field; returns whether the field was "*"-based.
Result<bool> parse_field(std::string_view text, const FieldSpec& f, std::vector<int>& values) {
  if (text.empty()) return invalid_input("{}: empty field", f.name);
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) return invalid_input("{}: empty list item in '{}'", f.name, text);
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      const std::string_view st = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(st.data(), st.data() + st.size(), step);
      if (ec != std::errc() || p != st.data() + st.size() || step < 1)
        return invalid_input("{}: step '{}' must be a positive number", f.name, st);
      item = item.substr(0, slash);
    }
    int lo = f.min, hi = f.max;
    if (item == "*") {
      // whole range
    } else if (auto dash = item.find('-'); dash != std::string_view::npos) {
      lo = FP_TRY(parse_value(item.substr(0, dash), f), "range start");
      hi = FP_TRY(parse_value(item.substr(dash + 1), f), "range end");
      if (lo > hi) return invalid_input("{}: range {}-{} runs backwards", f.name, lo, hi);
    } else {
      lo = FP_TRY(parse_value(item, f), "value");
      // "5/15" means 5, 20, 35, 50 (from 5 to the end of the range), as in Vixie cron.
      hi = step > 1 ? f.max : lo;
    }
    for (int v = lo; v <= hi; v += step) values.push_back(v);
  }
  return text[0] == '*';
}

}  // namespace

Result<CronExpr> CronExpr::parse(std::string_view expr) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    size_t start = i;
    while (i < expr.size() && !std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    if (i > start) fields.push_back(expr.substr(start, i - start));
  }
  if (fields.size() != 5)
    return invalid_input("cron '{}': expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                         expr, fields.size());
  static const FieldSpec kSpecs[5] = {{"minute", 0, 59, nullptr, 0},
                                      {"hour", 0, 23, nullptr, 0},
                                      {"day-of-month", 1, 31, nullptr, 0},
                                      {"month", 1, 12, &kMonthNames, 1},
                                      {"day-of-week", 0, 7, &kDayNames, 0}};
  CronExpr c;
  c.text_ = std::string(expr);
  for (int f = 0; f < 5; ++f) {
    std::vector<int> values;
    auto star = parse_field(fields[f], kSpecs[f], values);
    if (!star) return std::move(star).error().context(fmt::format("cron '{}'", expr));
    for (int v : values) {
      switch (f) {
        case 0:
          c.minutes_.set(v);
          break;
        case 1:
          c.hours_.set(v);
          break;
        case 2:
          c.days_.set(v);
          break;
        case 3:
          c.months_.set(v);
          break;
        case 4:
          c.weekdays_.set(v % 7);
          break;
      }
    }
    if (f == 2) c.day_restricted_ = !*star;
    if (f == 4) c.weekday_restricted_ = !*star;
  }
  return c;
}

bool CronExpr::matches(const std::tm& tm) const {
  if (!minutes_.test(tm.tm_min) || !hours_.test(tm.tm_hour) || !months_.test(tm.tm_mon + 1)) return false;
  const bool dom = days_.test(tm.tm_mday);
  const bool dow = weekdays_.test(tm.tm_wday);
  if (day_restricted_ && weekday_restricted_) return dom || dow;
  return dom && dow;
}

Result<std::chrono::system_clock::time_point> CronExpr::next_after(
    std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  std::time_t t = system_clock::to_time_t(time_point_cast<seconds>(after));
  std::tm tm{};
  localtime_r(&t, &tm);
  tm.tm_sec = 0;
  tm.tm_min += 1;
  tm.tm_isdst = -1;
  // Walk forward, skipping whole days and hours that cannot match; mktime normalises overflowing fields.
  // Eight years of days bound the walk (covers 29 February in a leap year).
  for (int guard = 0; guard < 8 * 366 * 24 * 60; ++guard) {
    std::time_t cand = mktime(&tm);
    localtime_r(&cand, &tm);
    const bool dom = days_.test(tm.tm_mday), dow = weekdays_.test(tm.tm_wday);
    const bool day_ok = (day_restricted_ && weekday_restricted_) ? (dom || dow) : (dom && dow);
    if (!months_.test(tm.tm_mon + 1)) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
    } else if (!day_ok) {
      tm.tm_mday += 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
    } else if (!hours_.test(tm.tm_hour)) {
      tm.tm_hour += 1;
      tm.tm_min = 0;
    } else if (!minutes_.test(tm.tm_min)) {
      tm.tm_min += 1;
    } else {
      return system_clock::from_time_t(cand);
    }
    tm.tm_isdst = -1;
  }
  return invalid_input("cron '{}' never matches", text_);
}

}  // namespace fp::sched
