// Escaping for the text formats fleetpipe writes by hand (HTML, Prometheus label values, PostgreSQL COPY
// text): each replaces a few bytes with fixed strings and passes every other byte through. One table of 256
// entries per format, built at compile time, so escaping a byte costs one lookup whatever the format.
#pragma once

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

namespace fp {

struct Replacement {
  char from;
  std::string_view to;
};

class EscapeTable {
 public:
  constexpr EscapeTable(std::initializer_list<Replacement> replacements) {
    for (const auto& r : replacements) to_[static_cast<unsigned char>(r.from)] = r.to;
  }

  // Appends s with every listed byte replaced.
  void append(std::string& out, std::string_view s) const {
    for (char c : s) {
      const std::string_view r = to_[static_cast<unsigned char>(c)];
      if (r.empty())
        out += c;
      else
        out += r;
    }
  }

  std::string escape(std::string_view s) const {
    std::string out;
    out.reserve(s.size() + 8);
    append(out, s);
    return out;
  }

 private:
  std::array<std::string_view, 256> to_{};
};

}  // namespace fp
