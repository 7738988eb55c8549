#pragma once

#include <CLI/CLI.hpp>

namespace fp::batch {

// Registers `export`.
void add_export_commands(CLI::App& app, int& exit_code);

}  // namespace fp::batch
