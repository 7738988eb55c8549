// Randomised robustness suites: a parser or renderer of untrusted input run on generated inputs for a
// bounded time. Inputs are mutations of valid samples (bytes flipped, inserted, deleted, repeated; ranges
// duplicated and spliced; tokens of the format's dictionary inserted; nesting and length bombs), and random
// bytes. The target checks its own invariants with EXPECT_*; the first input that breaks one is printed
// (escaped) with the seed that reproduces the run. CI runs them under ASan/UBSan as well, where a memory
// error aborts the run.
//
// FLEETPIPE_FUZZ_SECONDS sets each suite's budget (default 1; CI gives more); FLEETPIPE_FUZZ_SEED repeats a
// run.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace fp::fuzz {

inline std::chrono::milliseconds budget() {
  const char* s = std::getenv("FLEETPIPE_FUZZ_SECONDS");
  const double secs = s ? std::atof(s) : 1.0;
  return std::chrono::milliseconds(static_cast<int64_t>((secs > 0 ? secs : 1.0) * 1000));
}

inline uint64_t seed() {
  if (const char* s = std::getenv("FLEETPIPE_FUZZ_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// C-style escapes for printing an input.
inline std::string printable(std::string_view s, size_t max = 400) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> samples, std::vector<std::string> dictionary)
      : rng_(seed), samples_(std::move(samples)), dict_(std::move(dictionary)) {
    if (samples_.empty()) samples_.emplace_back();
  }

  std::string next() {
    if (pick(16) == 0) return random_bytes(pick(64));
    std::string s = samples_[pick(samples_.size())];
    for (size_t rounds = 1 + pick(4); rounds > 0; --rounds) mutate(s);
    return s;
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  char byte() { return static_cast<char>(pick(256)); }
  std::string random_bytes(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = byte();
    return s;
  }

  void mutate(std::string& s) {
    const size_t at = pick(s.size() + 1);
    switch (pick(10)) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] = byte();
        break;
      case 1:  // insert bytes
        s.insert(at, random_bytes(1 + pick(4)));
        break;
      case 2:  // delete a range
        if (!s.empty()) s.erase(pick(s.size()), 1 + pick(16));
        break;
      case 3:  // duplicate a range
        if (!s.empty()) {
          const size_t from = pick(s.size());
          s.insert(at, s.substr(from, 1 + pick(32)));
        }
        break;
      case 4:  // a dictionary token
        if (!dict_.empty()) s.insert(at, dict_[pick(dict_.size())]);
        break;
      case 5:  // cut short
        s.resize(at);
        break;
      case 6:  // splice with another sample
      {
        const std::string& other = samples_[pick(samples_.size())];
        s = s.substr(0, at) + other.substr(std::min(pick(8), other.size()));
      } break;
      case 7: {  // a nesting or repetition bomb
        static const char* kBombs[] = {"[", "{\"a\":", "\"", "\\", "9", ",", "%", "\xC3", "*/"};
        const std::string unit = kBombs[pick(std::size(kBombs))];
        std::string bomb;
        for (size_t n = 1 + pick(20000); n > 0; --n) bomb += unit;
        s.insert(at, bomb);
        break;
      }
      case 8: {  // invalid or awkward UTF-8
        static const char* kOdd[] = {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x00", "\r\n"};
        s.insert(at, kOdd[pick(std::size(kOdd))]);
        break;
      }
      default:  // an interesting number
        static const char* kNumbers[] = {
            "0",          "-1", "1e309", "-0",    "9223372036854775808", "1.7976931348623157e308", "NaN",
            "4294967296", "00", ".5",    "1e-400"};
        s.insert(at, kNumbers[pick(std::size(kNumbers))]);
        break;
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> samples_;
  std::vector<std::string> dict_;
};

// Runs target(input) on generated inputs until the budget is spent or an expectation fails; returns how
// many inputs ran (the caller checks it ran some).
template <typename Target>
size_t run(const std::vector<std::string>& samples, const std::vector<std::string>& dictionary,
           Target&& target, std::chrono::milliseconds limit = budget()) {
  const uint64_t s = seed();
  Mutator m(s, samples, dictionary);
  const auto until = std::chrono::steady_clock::now() + limit;
  size_t n = 0;
  // The samples themselves first, then mutations.
  for (const auto& sample : samples) {
    target(sample);
    ++n;
  }
  while (std::chrono::steady_clock::now() < until && !::testing::Test::HasFailure()) {
    const std::string input = m.next();
    target(input);
    ++n;
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "input (FLEETPIPE_FUZZ_SEED=" << s << "): " << printable(input);
      break;
    }
  }
  return n;
}

}  // namespace fp::fuzz
