#include "common/http/host_check.h"

#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <optional>

namespace fp::httpd {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The host part of a Host header without its port; nullopt when malformed.
std::optional<std::string_view> host_part(std::string_view host) {
  auto digits_only = [](std::string_view p) {
    return !p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (host.starts_with('[')) {  // an IPv6 literal
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && digits_only(rest.substr(1)))) return std::nullopt;
    return host.substr(1, close - 1);
  }
  const auto colon = host.find(':');
  if (colon == std::string_view::npos) return host;
  if (host.find(':', colon + 1) != std::string_view::npos || !digits_only(host.substr(colon + 1)))
    return std::nullopt;
  return host.substr(0, colon);
}

std::optional<boost::asio::ip::address> ip_of(std::string_view s) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return a;
}

}  // namespace

bool host_allowed(std::string_view host, std::string_view bind_address,
                  const std::vector<std::string>& allowed_names) {
  const auto part = host_part(host);
  if (!part || part->empty()) return false;
  const std::string name = lower(*part);
  if (name == "localhost") return true;
  if (const auto ip = ip_of(name)) {
    const auto bound = ip_of(bind_address);
    if (!bound) return false;
    if (bound->is_unspecified()) return true;
    return *ip == *bound || (ip->is_loopback() && bound->is_loopback());
  }
  for (const auto& allowed : allowed_names)
    if (lower(allowed) == name) return true;
  return false;
}

std::vector<std::string> allowed_hosts_from_env() {
  std::vector<std::string> out;
  const char* v = std::getenv("FLEETPIPE_ALLOWED_HOSTS");
  if (v == nullptr) return out;
  std::string_view rest(v);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return out;
}

}  // namespace fp::httpd
