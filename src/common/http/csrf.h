// CSRF protection for HTML forms (the web app's trip form, the console's actions): a signed double-submit
// token. The server hands out
// "<nonce>.<hmac(secret, nonce)>" both as a SameSite=Strict, HttpOnly cookie and as a hidden form field; a
// POST is accepted only when the field equals the cookie and the signature verifies. Another site can neither
// read the cookie nor mint a valid token (it lacks the secret), and a cookie planted by a sibling subdomain
// fails the signature check. Stateless, so it survives restarts when the secret is configured.
//
// Tokens expire: the nonce carries its issue time (signed with it), and a token older than the lifetime is
// refused as expired, which the forms answer with the form again, its values kept and a new token. Pages
// hand out a new token once the client's is past half its lifetime, so a form just loaded always has at
// least half the lifetime to be sent.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace fp {

class Csrf {
 public:
  using Clock = std::chrono::system_clock;
  enum class Verdict { kGenuine, kExpired, kForged };

  // An empty secret means a random per-process one (tokens then die with the process).
  explicit Csrf(std::string secret, std::chrono::seconds lifetime = std::chrono::hours(2));

  std::string issue(Clock::time_point now = Clock::now()) const;
  // Signature, then age.
  Verdict check(std::string_view token, Clock::time_point now = Clock::now()) const;
  bool valid(std::string_view token, Clock::time_point now = Clock::now()) const {
    return check(token, now) == Verdict::kGenuine;
  }
  // Whether a page should hand out a new token instead of this one: not genuine, or past half its life.
  bool should_renew(std::string_view token, Clock::time_point now = Clock::now()) const;
  // A POST is genuine when the form token is genuine and equals the cookie token; kExpired when both are
  // the same genuine-but-old token.
  Verdict verify(std::string_view cookie_token, std::string_view form_token,
                 Clock::time_point now = Clock::now()) const;

  static constexpr std::string_view kCookieName = "fp_csrf";
  static constexpr std::string_view kFieldName = "csrf_token";
  // The Set-Cookie value for a token. Cookies are not isolated by port, so services on one host use their
  // own cookie names (the console's token must not overwrite the web app's).
  static std::string cookie_header(std::string_view token);
  static std::string cookie_header(std::string_view cookie_name, std::string_view token);

 private:
  std::string sign(std::string_view nonce) const;
  // Seconds since the epoch from a token's nonce; -1 when malformed or unsigned.
  int64_t issued_at(std::string_view token) const;
  std::string secret_;
  std::chrono::seconds lifetime_;
};

// The value of one cookie from a Cookie header; empty when absent.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace fp
