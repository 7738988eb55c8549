// The query strings the pages take, validated: ?partition=&n= on a topic, ?before=&limit= on the run
// history. A bad value is a 400 that names the field: problem+json under /api/, a page elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "common/http/message.h"

namespace fp::console {

// An integer in [min, max], the whole of s; nullopt otherwise.
std::optional<int64_t> parse_int(std::string_view s, int64_t min, int64_t max);

struct TopicQuery {
  std::optional<int32_t> partition;
  int n = 20;
};
std::variant<TopicQuery, httpd::Response> topic_query(const httpd::Request& req);

struct RunsQuery {
  std::optional<int64_t> before;
  int limit = 20;
};
std::variant<RunsQuery, httpd::Response> runs_query(const httpd::Request& req);

}  // namespace fp::console
