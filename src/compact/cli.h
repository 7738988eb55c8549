#pragma once

#include <CLI/CLI.hpp>

namespace fp::compact {

// Registers `compact`.
void add_compact_commands(CLI::App& app, int& exit_code);

}  // namespace fp::compact
