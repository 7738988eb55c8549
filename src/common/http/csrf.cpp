#include "common/http/csrf.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <charconv>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "common/digest.h"

namespace fp {

namespace {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without randomness no token is safe; this only happens when the OS entropy source is broken.
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

}  // namespace

// A token is "<issued>.<random>.<signature>": 16 hex digits of the issue time in seconds, 32 of randomness,
// and the HMAC-SHA256 (64 hex digits) of "<issued>.<random>".
constexpr size_t kTimeDigits = 16;
constexpr size_t kNonceSize = kTimeDigits + 1 + 32;
constexpr size_t kTokenSize = kNonceSize + 1 + 64;

Csrf::Csrf(std::string secret, std::chrono::seconds lifetime)
    : secret_(secret.empty() ? random_bytes(32) : std::move(secret)), lifetime_(lifetime) {}

std::string Csrf::sign(std::string_view nonce) const {
  return digest::hex(digest::hmac_sha256(secret_, nonce));
}

std::string Csrf::issue(Clock::time_point now) const {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::string nonce =
      fmt::format("{:016x}.{}", static_cast<uint64_t>(secs), digest::hex(random_bytes(16)));
  return nonce + "." + sign(nonce);
}

int64_t Csrf::issued_at(std::string_view token) const {
  if (token.size() != kTokenSize || token[kTimeDigits] != '.' || token[kNonceSize] != '.') return -1;
  const std::string expected = sign(token.substr(0, kNonceSize));
  if (CRYPTO_memcmp(expected.data(), token.data() + kNonceSize + 1, expected.size()) != 0) return -1;
  uint64_t secs = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + kTimeDigits, secs, 16);
  if (ec != std::errc() || end != token.data() + kTimeDigits || secs > INT64_MAX) return -1;
  return static_cast<int64_t>(secs);
}

Csrf::Verdict Csrf::check(std::string_view token, Clock::time_point now) const {
  const int64_t issued = issued_at(token);
  if (issued < 0) return Verdict::kForged;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // A token from the future (a clock stepped back) counts as new: refusing it would only lock the user out.
  return secs - issued > lifetime_.count() ? Verdict::kExpired : Verdict::kGenuine;
}

bool Csrf::should_renew(std::string_view token, Clock::time_point now) const {
  const int64_t issued = issued_at(token);
  if (issued < 0) return true;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return secs - issued > lifetime_.count() / 2;
}

Csrf::Verdict Csrf::verify(std::string_view cookie_token, std::string_view form_token,
                           Clock::time_point now) const {
  if (cookie_token.size() != form_token.size() ||
      CRYPTO_memcmp(cookie_token.data(), form_token.data(), form_token.size()) != 0)
    return Verdict::kForged;
  return check(form_token, now);
}

std::string Csrf::cookie_header(std::string_view token) {
  return cookie_header(kCookieName, token);
}

std::string Csrf::cookie_header(std::string_view cookie_name, std::string_view token) {
  return std::string(cookie_name) + "=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Strict";
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
  }
  return {};
}

}  // namespace fp
