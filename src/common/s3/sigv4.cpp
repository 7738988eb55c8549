#include "common/s3/sigv4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/digest.h"
#include "common/http/client.h"

namespace fp::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Trims the value and collapses runs of whitespace to one space, as SigV4 canonical headers require.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (unsigned char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;  // "name:value\n" lines
  std::string signed_names;
};

CanonicalHeaders canonical_headers(const Pairs& headers) {
  Pairs lowered;
  lowered.reserve(headers.size());
  for (const auto& [k, v] : headers) lowered.emplace_back(lower(k), canonical_value(v));
  // Stable: repeated headers keep their order when their values are joined.
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (size_t i = 0; i < lowered.size();) {
    const std::string& name = lowered[i].first;
    std::string value = lowered[i].second;
    size_t j = i + 1;
    for (; j < lowered.size() && lowered[j].first == name; ++j) value += "," + lowered[j].second;
    out.block += name + ":" + value + "\n";
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += name;
    i = j;
  }
  return out;
}

}  // namespace

std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  return http::url_encode(raw_path, /*keep_slash=*/true);
}

std::string canonical_query(const Pairs& query) {
  Pairs encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(http::url_encode(k), http::url_encode(v));
  // Sorted by encoded name, then value (byte order), per the SigV4 rules.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Signed sign(const Request& req, const Credentials& creds, std::string_view region, std::string_view service,
            std::string_view amz_date_value) {
  Signed s;
  const CanonicalHeaders ch = canonical_headers(req.headers);
  s.signed_headers = ch.signed_names;
  s.canonical_request = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", req.method, canonical_uri(req.path),
                                    canonical_query(req.query), ch.block, ch.signed_names, req.payload_hash);

  const std::string_view date = amz_date_value.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  s.string_to_sign = fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date_value, scope,
                                 digest::sha256_hex(s.canonical_request));

  // The signing key is derived step by step so that it is bound to the date, region and service.
  std::string key = digest::hmac_sha256("AWS4" + creds.secret_key, date);
  key = digest::hmac_sha256(key, region);
  key = digest::hmac_sha256(key, service);
  key = digest::hmac_sha256(key, "aws4_request");
  s.signature = digest::hex(digest::hmac_sha256(key, s.string_to_sign));

  s.authorization = fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                creds.access_key, scope, s.signed_headers, s.signature);
  return s;
}

}  // namespace fp::sigv4
