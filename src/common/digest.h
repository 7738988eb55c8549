// Message digests for request signing and upload integrity checks (OpenSSL EVP, one-shot).
#pragma once

#include <string>
#include <string_view>

namespace fp::digest {

// Raw (binary) digests.
std::string sha256(std::string_view data);
std::string md5(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lower-case hex of raw bytes.
std::string hex(std::string_view bytes);
// Standard base64 with padding (Content-MD5, x-amz-checksum-*).
std::string base64(std::string_view bytes);

inline std::string sha256_hex(std::string_view data) {
  return hex(sha256(data));
}

}  // namespace fp::digest
