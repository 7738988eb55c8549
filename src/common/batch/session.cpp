#include "common/batch/session.h"

namespace fp::batch {

Status take_run_lock(pg::Connection& conn, int64_t key, std::chrono::milliseconds wait,
                     std::string_view what) {
  // SET LOCAL: the timeout ends with this transaction; the session-level lock outlives it.
  FP_CHECK(conn.exec(fmt::format("BEGIN; SET LOCAL lock_timeout = {}", wait.count())), "advisory lock");
  auto locked = conn.query("SELECT pg_advisory_lock($1)", key);
  if (!locked) {
    (void)conn.exec("ROLLBACK");
    if (locked.error().code == "55P03")  // lock_not_available: lock_timeout expired
      return transient_error(
          "another {} is running against this database (its lock was still held after {} ms)", what,
          wait.count());
    return std::move(locked).error().context("advisory lock");
  }
  return conn.exec("COMMIT");
}

}  // namespace fp::batch
