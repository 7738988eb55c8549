// Which Host headers a server answers: the defence against DNS rebinding. A page on another site whose name
// an attacker points at 127.0.0.1 reaches a loopback server from the operator's own browser, but its
// requests carry the attacker's name in Host; binding to loopback alone does not stop them. A rebinding
// attack needs a name it controls, so names are refused unless listed, and IP literals are accepted when
// they are the address the server listens on (any, when it listens on all of them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fp::httpd {

// host: the Host header as sent ("127.0.0.1:18050", "[::1]:8080", "localhost", "example.org:80").
// Allowed: "localhost"; an IP literal equal to bind_address, or any IP literal when bind_address is a
// wildcard (0.0.0.0, ::), or a loopback one when bind_address is loopback; a name in allowed_names
// (case-insensitive, without port). The port is not compared (a proxy may change it).
bool host_allowed(std::string_view host, std::string_view bind_address,
                  const std::vector<std::string>& allowed_names);

// The names FLEETPIPE_ALLOWED_HOSTS lists (comma-separated), for servers reached through a DNS name.
std::vector<std::string> allowed_hosts_from_env();

}  // namespace fp::httpd
