// Pure formatting and arithmetic for the console's views: sizes, counts, times, message bodies, and the
// offset range a tail covers. No I/O, so all of it is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fp::console {

// 0 B, 512 B, 1.5 KiB, 3.2 MiB, 1.0 GiB (binary units, one decimal above bytes).
std::string human_bytes(int64_t bytes);
// 1234567 -> "1,234,567"; negative numbers keep their sign.
std::string grouped(int64_t n);
// Milliseconds since the epoch -> "2024-04-15 08:00:03.250 UTC"; "-" when negative (no timestamp).
std::string utc_time_ms(int64_t epoch_ms);

// Cuts s to at most max_bytes without splitting a UTF-8 sequence; appends "…" when it cut.
std::string truncate_utf8(std::string_view s, size_t max_bytes);

// A message key or value for display, and a note when it is not shown whole or not re-indented.
struct PayloadView {
  std::string text;
  std::string note;  // empty when the text is all of the payload, as it was sent or re-indented
};

// JSON within kPrettyLimits is re-indented (2 spaces); anything else is shown as text with bytes that are
// not valid UTF-8 (or are control characters other than newline and tab) as \xNN escapes. The text is cut
// to max_bytes. `full_bytes` is the payload's size where it came from: a reader may have kept only its start
// (kafka::PeekOptions::max_payload_bytes), and then the note says so. nullopt (a tombstone or null key) is
// "null".
inline constexpr size_t kPrettyMaxBytes = 64 * 1024;
inline constexpr size_t kPrettyMaxDepth = 64;
PayloadView display_payload(const std::optional<std::string>& payload, size_t full_bytes, size_t max_bytes,
                            bool pretty_json);

// The offsets [first, end) of the last `n` messages of a partition whose stored range is [low, high).
struct OffsetRange {
  int64_t first = 0;
  int64_t end = 0;
};
OffsetRange tail_range(int64_t low, int64_t high, int64_t n);

}  // namespace fp::console
