#include "common/byte_size.h"

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

namespace fp {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The multiplier a unit names, or 0 when it names none.
long double multiplier(std::string_view unit) {
  static const std::array<std::pair<const char*, long double>, 14> kUnits = {{
      {"", 1.0L},
      {"b", 1.0L},
      {"k", 1024.0L},
      {"kib", 1024.0L},
      {"kb", 1e3L},
      {"m", 1048576.0L},
      {"mib", 1048576.0L},
      {"mb", 1e6L},
      {"g", 1073741824.0L},
      {"gib", 1073741824.0L},
      {"gb", 1e9L},
      {"t", 1099511627776.0L},
      {"tib", 1099511627776.0L},
      {"tb", 1e12L},
  }};
  const std::string u = lower(unit);
  for (const auto& [name, m] : kUnits)
    if (u == name) return m;
  return 0;
}

}  // namespace

Result<int64_t> parse_byte_size(std::string_view text) {
  auto bad = [&] {
    return invalid_input("{:?} is not a size in bytes (e.g. 20GiB, 500MB, 1048576)", std::string(text));
  };
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  long double whole = 0;
  size_t digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits)
    whole = whole * 10 + (text[i] - '0');
  long double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    long double scale = 0.1L;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits) {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (digits == 0) return bad();
  while (i < text.size() && text[i] == ' ') ++i;
  size_t end = text.size();
  while (end > i && text[end - 1] == ' ') --end;
  const long double m = multiplier(text.substr(i, end - i));
  if (m == 0) return bad();
  const long double bytes = std::floor((whole + fraction) * m);
  if (!(bytes < static_cast<long double>(std::numeric_limits<int64_t>::max()))) return bad();
  return static_cast<int64_t>(bytes);
}

std::string format_byte_size(int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  int u = 0;
  while (v >= 1024.0 && u < 5) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

}  // namespace fp
