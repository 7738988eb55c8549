#pragma once

#include <CLI/CLI.hpp>

namespace fp::gen {

// Registers `generate`.
void add_commands(CLI::App& app, int& exit_code);

}  // namespace fp::gen
