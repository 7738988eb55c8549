// Sizes in bytes as people write them in configuration ("20GiB", "500MB", "1.5 GiB", "4096") and as they read
// them back in logs and tables ("20.0 GiB").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp {

// A non-negative number with an optional fraction and an optional unit, case-insensitive, an optional space
// between: B; KiB, MiB, GiB, TiB (powers of 1024); kB/KB, MB, GB, TB (powers of 1000); K, M, G, T alone
// mean the binary units, as in `du -h`, the JVM's -Xmx and Kafka's tools. The result is rounded down to a
// whole byte. kInvalidInput for anything else, or a value that does not fit in 63 bits.
Result<int64_t> parse_byte_size(std::string_view text);

// 0 B, 512 B, 1.5 KiB, 3.2 MiB, 20.0 GiB: binary units, one decimal above bytes.
std::string format_byte_size(int64_t bytes);

}  // namespace fp
