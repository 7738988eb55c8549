// Process-wide graceful shutdown: SIGINT/SIGTERM set a flag and wake every waiter, so long-running loops
// finish the batch in hand (flush, commit, close) instead of dying mid-write.
#pragma once

#include <chrono>

namespace fp::shutdown {

// Installs handlers for SIGINT and SIGTERM (idempotent).
void install_signal_handlers();
// True once a shutdown was requested.
bool requested();
// Requests shutdown programmatically (tests, fatal errors in a worker).
void request();
// Waits up to d; returns true if shutdown was requested before or during the wait.
bool wait_for(std::chrono::milliseconds d);
// Clears the flag (tests only).
void reset_for_tests();

}  // namespace fp::shutdown
