// The trip record's text forms (text.h), written field by field through kFields.
#include "common/trip/text.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <iterator>

#include "common/json_text.h"

namespace fp::trip {

namespace {

bool digits(std::string_view s, int& out) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return !s.empty();
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_2(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// Appends one value the way the CSV, COPY and JSON writers share: integers and floats as numbers, the time
// as "YYYY-MM-DD HH:MM:SS". Text is left to the caller (JSON quotes it, CSV and COPY do not).
template <typename F>
void append_value(std::string& out, const F& f, const Measurement& m) {
  if constexpr (kIsTime<F>) {
    append_time(out, m.*f.member);
  } else if constexpr (std::is_same_v<F, Field<int32_t>>) {
    append_int(out, m.*f.member);
  } else {
    append_float(out, m.*f.member);
  }
}

template <char Sep>
void append_delimited(std::string& out, const Measurement& m) {
  bool first = true;
  for_each_field([&](const auto& f) {
    if (!first) out.push_back(Sep);
    first = false;
    if constexpr (kIsText<decltype(f)>) {
      out += m.*f.member;  // validated: lowercase letters only, nothing to quote or escape
    } else {
      append_value(out, f, m);
    }
  });
  out.push_back('\n');
}

}  // namespace

Result<int64_t> parse_time(std::string_view t) {
  // Exactly 19 characters: 2024-04-15 17:55:03.
  auto bad = [&] { return invalid_input("unparseable time '{}' (expected YYYY-MM-DD HH:MM:SS)", t); };
  if (t.size() != 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':')
    return bad();
  int y, mo, d, h, mi, s;
  if (!digits(t.substr(0, 4), y) || !digits(t.substr(5, 2), mo) || !digits(t.substr(8, 2), d) ||
      !digits(t.substr(11, 2), h) || !digits(t.substr(14, 2), mi) || !digits(t.substr(17, 2), s))
    return bad();
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return bad();
  return static_cast<int64_t>(sys_days{ymd}.time_since_epoch().count()) * 86400 + h * 3600 + mi * 60 + s;
}

void append_time(std::string& out, int64_t seconds) {
  using namespace std::chrono;
  int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  append_int(out, static_cast<int>(ymd.year()));
  out.push_back('-');
  append_2(out, static_cast<unsigned>(ymd.month()));
  out.push_back('-');
  append_2(out, static_cast<unsigned>(ymd.day()));
  out.push_back(' ');
  append_2(out, static_cast<unsigned>(rem / 3600));
  out.push_back(':');
  append_2(out, static_cast<unsigned>(rem / 60 % 60));
  out.push_back(':');
  append_2(out, static_cast<unsigned>(rem % 60));
}

std::string format_time(int64_t seconds) {
  std::string s;
  append_time(s, seconds);
  return s;
}

void append_float(std::string& out, double v) {
  // fmt's default is the shortest round-trip text with Python's choice of exponent (exp < -4 or >= 16).
  const size_t start = out.size();
  fmt::format_to(std::back_inserter(out), "{}", v);
  if (std::isfinite(v) && out.find_first_of(".e", start) == std::string::npos) out += ".0";
}

void append_json(std::string& out, const Measurement& m) {
  char open = '{';
  for_each_field([&](const auto& f) {
    out.push_back(open);
    if (open == ',') out.push_back(' ');
    open = ',';
    out.push_back('"');
    out += f.name;
    out += "\": ";
    if constexpr (kIsText<decltype(f)>) {
      append_json_string(out, m.*f.member);
    } else if constexpr (kIsTime<decltype(f)>) {
      out.push_back('"');
      append_value(out, f, m);
      out.push_back('"');
    } else {
      append_value(out, f, m);
    }
  });
  out += "}";
}

std::string to_json(const Measurement& m) {
  std::string s;
  append_json(s, m);
  return s;
}

void append_csv(std::string& out, const Measurement& m) {
  append_delimited<','>(out, m);
}
void append_copy_text(std::string& out, const Measurement& m) {
  append_delimited<'\t'>(out, m);
}

}  // namespace fp::trip
