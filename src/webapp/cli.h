#pragma once

#include <CLI/CLI.hpp>

namespace fp::webapp {

// Registers `webapp`.
void add_commands(CLI::App& app, int& exit_code);

}  // namespace fp::webapp
