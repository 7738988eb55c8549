// The dbt docs page (/dbt/...): files, not a view, so its interface is this one call rather than
// views.h's JSON (the page that stands in for missing docs is html::dbt_missing).
#pragma once

#include <filesystem>

#include "common/http/message.h"

namespace fp::console {

// Serves req's path under the `target` directory that `dbt docs generate` writes, with the looser CSP
// dbt's inline script needs; 404 with how to generate the docs when there are none.
httpd::Response dbt_docs(const std::filesystem::path& target, const httpd::Request& req);

}  // namespace fp::console
