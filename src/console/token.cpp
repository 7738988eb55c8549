#include "console/token.h"

#include <openssl/crypto.h>

#include <cctype>

#include "common/digest.h"

namespace fp::console {

TokenCheck check_operator_token(std::string_view configured, std::string_view presented) {
  if (configured.empty()) return TokenCheck::kNotConfigured;
  if (presented.empty()) return TokenCheck::kMissing;
  const std::string a = digest::sha256(configured);
  const std::string b = digest::sha256(presented);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0 ? TokenCheck::kOk : TokenCheck::kWrong;
}

std::string bearer_token(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size() || h[scheme.size()] != ' ') return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(h[i])) != scheme[i]) return {};
  h.remove_prefix(scheme.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  return std::string(h);
}

int token_status(TokenCheck c) {
  switch (c) {
    case TokenCheck::kOk:
      return 200;
    case TokenCheck::kMissing:
      return 401;
    case TokenCheck::kNotConfigured:
    case TokenCheck::kWrong:
      return 403;
  }
  return 403;
}

std::string token_message(TokenCheck c) {
  switch (c) {
    case TokenCheck::kOk:
      return "ok";
    case TokenCheck::kNotConfigured:
      return "Actions are disabled: the console has no operator token. Set FLEETPIPE_CONSOLE_TOKEN (or run "
             "`fleetpipe up`, which generates one into the state directory's credentials.env) and restart "
             "the console.";
    case TokenCheck::kMissing:
      return "This action needs the operator token: enter it in the form, or send it as "
             "`Authorization: Bearer <token>`. It is FLEETPIPE_CONSOLE_TOKEN (see `fleetpipe config "
             "--reveal-secrets`). Nothing was done.";
    case TokenCheck::kWrong:
      return "The operator token is wrong. Nothing was done.";
  }
  return "forbidden";
}

}  // namespace fp::console
