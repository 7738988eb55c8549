// The operator token that guards the console's actions (restart a connector, trigger a run). It comes from
// FLEETPIPE_CONSOLE_TOKEN (environment, or generated into <state>/credentials.env by `fleetpipe up`) and is
// presented as `Authorization: Bearer <token>` or as the form field `operator_token`.
#pragma once

#include <string>
#include <string_view>

namespace fp::console {

enum class TokenCheck {
  kOk,
  kNotConfigured,  // the console has no token: actions are disabled (403)
  kMissing,        // none presented (401)
  kWrong,          // presented but not ours (403)
};

// Compares in constant time (over SHA-256 digests, so the length of the secret does not leak either).
TokenCheck check_operator_token(std::string_view configured, std::string_view presented);

// The token from an Authorization header value ("Bearer <token>", scheme case-insensitive); empty otherwise.
std::string bearer_token(std::string_view authorization);

// HTTP status and a message for a failed check.
int token_status(TokenCheck c);
std::string token_message(TokenCheck c);

inline constexpr std::string_view kTokenField = "operator_token";

}  // namespace fp::console
