// Network addresses as fleetpipe's configuration writes them.
#pragma once

#include <string>
#include <utility>

namespace fp {

// Host and port of "scheme://host:port", "host:port" or "[v6]:port" (the first entry of a comma-separated
// list, as in a bootstrap-server list); default_port where none is given or it does not parse.
std::pair<std::string, int> host_port(const std::string& address, int default_port);

}  // namespace fp
