#pragma once

#include <CLI/CLI.hpp>

namespace fp::realtime {

// Registers `realtime`.
void add_commands(CLI::App& app, int& exit_code);

}  // namespace fp::realtime
