#include "console/format.h"

#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/json_bounded.h"

namespace fp::console {

std::string human_bytes(int64_t bytes) {
  if (bytes < 0) return "-" + human_bytes(-bytes);
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(units)) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string grouped(int64_t n) {
  const bool negative = n < 0;
  // Via unsigned so INT64_MIN has a magnitude.
  uint64_t mag = negative ? ~static_cast<uint64_t>(n) + 1 : static_cast<uint64_t>(n);
  std::string digits = std::to_string(mag);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string utc_time_ms(int64_t epoch_ms) {
  if (epoch_ms < 0) return "-";
  const time_t secs = static_cast<time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:03d} UTC", buf, static_cast<int>(epoch_ms % 1000));
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  uint32_t min = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return len;
}

}  // namespace

std::string truncate_utf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  // Step back over continuation bytes so the cut lands on a sequence boundary.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

namespace {

// Bytes shown as text: valid UTF-8 kept (newline and tab too), anything else as \xNN; stops one past
// max_bytes, so truncate_utf8 marks the cut.
std::string escaped_text(const std::string& p, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(p.size(), max_bytes) + 16);
  for (size_t i = 0; i < p.size() && out.size() <= max_bytes;) {
    const size_t len = utf8_sequence(p, i);
    const auto c = static_cast<unsigned char>(p[i]);
    if (len == 0 || (len == 1 && c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
      out += fmt::format("\\x{:02X}", c);
      ++i;
    } else {
      out.append(p, i, len);
      i += len;
    }
  }
  return truncate_utf8(out, max_bytes);
}

}  // namespace

PayloadView display_payload(const std::optional<std::string>& payload, size_t full_bytes, size_t max_bytes,
                            bool pretty_json) {
  if (!payload) return {"null", ""};
  const std::string& p = *payload;
  full_bytes = std::max(full_bytes, p.size());
  const bool whole = p.size() == full_bytes;
  const bool looks_json = pretty_json && !p.empty() && (p.front() == '{' || p.front() == '[');
  PayloadView view;
  std::string why_raw;
  if (looks_json) {
    // Bounds before the parse: dumping recurses once per level of nesting.
    if (!whole) {
      why_raw = "cut before it could be re-indented";
    } else if (p.size() > kPrettyMaxBytes) {
      why_raw = fmt::format("larger than {} to re-indent", human_bytes(kPrettyMaxBytes));
    } else if (json_nesting_depth(p, kPrettyMaxDepth) > kPrettyMaxDepth) {
      why_raw = fmt::format("nested deeper than {} levels to re-indent", kPrettyMaxDepth);
    } else if (auto j = nlohmann::json::parse(p, nullptr, /*allow_exceptions=*/false); !j.is_discarded()) {
      view.text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  if (view.text.empty()) view.text = escaped_text(p, max_bytes);
  const bool over = view.text.size() > max_bytes;
  view.text = truncate_utf8(view.text, max_bytes);  // marks its cut with "…"
  if (!whole) {
    if (!over) view.text += "…";
    view.note =
        fmt::format("first {} of the {} sent", human_bytes(static_cast<int64_t>(over ? max_bytes : p.size())),
                    human_bytes(static_cast<int64_t>(full_bytes)));
  } else if (over) {
    view.note = fmt::format("cut to {}", human_bytes(static_cast<int64_t>(max_bytes)));
  }
  if (!why_raw.empty()) view.note += (view.note.empty() ? "as sent: " : "; as sent: ") + why_raw;
  return view;
}

OffsetRange tail_range(int64_t low, int64_t high, int64_t n) {
  if (high < low) high = low;
  if (n < 0) n = 0;
  const int64_t first = high - low > n ? high - n : low;
  return {first, high};
}

}  // namespace fp::console
