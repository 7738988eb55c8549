// CSRF protection for HTML forms (the web app's trip form, the console's actions): a signed double-submit
// token. The server hands out
// "<nonce>.<hmac(secret, nonce)>" both as a SameSite=Strict, HttpOnly cookie and as a hidden form field; a
// POST is accepted only when the field equals the cookie and the signature verifies. Another site can neither
// read the cookie nor mint a valid token (it lacks the secret), and a cookie planted by a sibling subdomain
// fails the signature check. Stateless, so it survives restarts when the secret is configured.
#pragma once

#include <string>
#include <string_view>

namespace fp {

class Csrf {
 public:
  // An empty secret means a random per-process one (tokens then die with the process).
  explicit Csrf(std::string secret);

  std::string issue() const;
  bool valid(std::string_view token) const;
  // A POST is genuine when the form token is valid and equals the cookie token.
  bool verify(std::string_view cookie_token, std::string_view form_token) const;

  static constexpr std::string_view kCookieName = "fp_csrf";
  static constexpr std::string_view kFieldName = "csrf_token";
  // The Set-Cookie value for a token. Cookies are not isolated by port, so services on one host use their
  // own cookie names (the console's token must not overwrite the web app's).
  static std::string cookie_header(std::string_view token);
  static std::string cookie_header(std::string_view cookie_name, std::string_view token);

 private:
  std::string sign(std::string_view nonce) const;
  std::string secret_;
};

// The value of one cookie from a Cookie header; empty when absent.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace fp
