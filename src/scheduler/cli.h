#pragma once

#include <CLI/CLI.hpp>

namespace fp::sched {

// Registers `scheduler`.
void add_commands(CLI::App& app, int& exit_code);

}  // namespace fp::sched
