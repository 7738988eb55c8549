#pragma once

#include <CLI/CLI.hpp>

namespace fp::batch {

// Registers `load` and `verify`.
void add_load_commands(CLI::App& app, int& exit_code);

}  // namespace fp::batch
