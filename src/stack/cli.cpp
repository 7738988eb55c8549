#include "stack/cli.h"

namespace fp::stack {

void add_commands(CLI::App& app, int& exit_code) {
  (void)app;
  (void)exit_code;
}

}  // namespace fp::stack
