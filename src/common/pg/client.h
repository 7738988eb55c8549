// A Connection that heals itself between statements. Before every statement the Client checks, without
// blocking, whether the server closed the session while it was idle (restart, failover,
// pg_terminate_backend, idle timeouts) and if so reconnects with backoff and re-prepares its statements.
//
// It never retries a statement: one that fails mid-flight may or may not have run, and only the caller
// knows whether running it twice is safe. And it never reconnects under an open transaction: statements
// after the reconnect would silently run outside it. A connection lost inside a transaction is reported
// as a transient error until the Transaction object ends; the caller retries the whole transaction.
#pragma once

#include "common/pg/connection.h"

namespace fp::pg {

class Client : public StatementArgs<Client> {
 public:
  static Result<Client> connect(const PgConfig& cfg, ConnectOptions opts = {});

  // Connection's statements, each after ensure_connected(); query() and exec_prepared() from StatementArgs.
  Status exec(std::string_view sql);
  Result<Rows> query_params(std::string_view sql, const Params& params);
  Status prepare(const std::string& name, std::string_view sql);
  Result<Rows> exec_prepared_params(const std::string& name, const Params& params);
  Result<Transaction> begin(TxOptions opts = {});
  Result<CopyIn> copy_in(std::string_view copy_sql);
  Result<int64_t> copy_out(std::string_view copy_sql, const std::function<Status(std::string_view)>& sink);
  bool is_healthy(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

  // Reconnects now if the session is gone (what every call above does first).
  Status ensure_connected();
  // The current session; a different object's state after a reconnect, so don't keep references across calls.
  Connection& connection() { return conn_; }
  int reconnects() const { return reconnects_; }

 private:
  explicit Client(Connection c) : conn_(std::move(c)) {}
  Connection conn_;
  int reconnects_ = 0;
  bool loss_reported_ = false;  // a loss inside an exec("BEGIN") transaction was reported once
};

}  // namespace fp::pg
