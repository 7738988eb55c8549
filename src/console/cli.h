// `fleetpipe console`: the pipeline's operations console (console/app.h).
#pragma once

#include <CLI/CLI.hpp>

namespace fp::console {

void add_commands(CLI::App& app, int& exit_code);

}  // namespace fp::console
