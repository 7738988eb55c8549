#pragma once

#include <CLI/CLI.hpp>

namespace fp::retain {

// Registers `retain`.
void add_retain_commands(CLI::App& app, int& exit_code);

}  // namespace fp::retain
