#pragma once

#include <CLI/CLI.hpp>

namespace fp::stack {

// Registers `up`, `down`, `status`, `topics apply` and `connectors apply`.
void add_commands(CLI::App& app, int& exit_code);

}  // namespace fp::stack
