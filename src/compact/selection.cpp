#include "compact/selection.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace fp::compact {

std::optional<bool> day_closed(const std::string& dt, std::chrono::minutes after,
                               std::chrono::system_clock::time_point now) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (dt.size() != 10 || dt[4] != '-' || dt[7] != '-' ||
      std::sscanf(dt.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  const auto end = std::chrono::sys_days(ymd) + std::chrono::days(1);
  return end + after <= now;
}

std::vector<Source> choose_inputs(std::vector<Source> objects, int64_t target_bytes) {
  std::erase_if(objects, [&](const Source& s) { return s.entry.bytes >= target_bytes / 2; });
  for (auto kind : {batch::ObjectKind::kRows, batch::ObjectKind::kDeletes}) {
    const auto n =
        std::count_if(objects.begin(), objects.end(), [&](const Source& s) { return s.entry.kind == kind; });
    if (n < 2) std::erase_if(objects, [&](const Source& s) { return s.entry.kind == kind; });
  }
  std::sort(objects.begin(), objects.end(),
            [](const Source& a, const Source& b) { return a.entry.key < b.entry.key; });
  return objects;
}

std::optional<int64_t> leading_id(std::string_view line) {
  constexpr std::string_view kHead = "{\"id\":";
  if (!line.starts_with(kHead)) return std::nullopt;
  line.remove_prefix(kHead.size());
  int64_t id = 0;
  auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
  if (ec != std::errc() || p == line.data() || p == line.data() + line.size() || (*p != ',' && *p != '}'))
    return std::nullopt;
  return id;
}

}  // namespace fp::compact
