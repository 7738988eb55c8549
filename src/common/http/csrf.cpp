#include "common/http/csrf.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

Csrf::Csrf(std::string secret) : secret_(secret.empty() ? random_bytes(32) : std::move(secret)) {}

std::string Csrf::sign(std::string_view nonce) const {
  return digest::hex(digest::hmac_sha256(secret_, nonce));
}

std::string Csrf::issue() const {
  const std::string nonce = digest::hex(random_bytes(16));
  return nonce + "." + sign(nonce);
}

bool Csrf::valid(std::string_view token) const {
  const auto dot = token.find('.');
  if (dot != 32 || token.size() != 32 + 1 + 64) return false;
  const std::string expected = sign(token.substr(0, dot));
  return CRYPTO_memcmp(expected.data(), token.data() + dot + 1, expected.size()) == 0;
}

bool Csrf::verify(std::string_view cookie_token, std::string_view form_token) const {
  if (cookie_token.size() != form_token.size() || !valid(form_token)) return false;
  return CRYPTO_memcmp(cookie_token.data(), form_token.data(), form_token.size()) == 0;
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
