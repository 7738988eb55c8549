#include "common/net.h"

#include <exception>

namespace fp {

std::pair<std::string, int> host_port(const std::string& address, int default_port) {
  std::string a = address.substr(0, address.find(','));
  if (auto s = a.find("://"); s != std::string::npos) a = a.substr(s + 3);
  if (auto slash = a.find('/'); slash != std::string::npos) a = a.substr(0, slash);
  const auto colon = a.rfind(':');
  const auto bracket = a.find(']');  // [::1]:9000 — a colon inside the brackets is not the port separator
  if (colon == std::string::npos || (bracket != std::string::npos && bracket > colon))
    return {a, default_port};
  int port = default_port;
  try {
    port = std::stoi(a.substr(colon + 1));
  } catch (const std::exception&) {
  }
  std::string host = a.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, port};
}

}  // namespace fp
