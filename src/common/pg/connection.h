// PostgreSQL access over libpq. A Connection is one server session, driven through libpq's asynchronous
// API so every wait is bounded: the server enforces statement_timeout, and the client waits that long plus
// a grace period before sending a cancel (PQcancel) itself, then closes the connection if even the cancel
// goes unanswered. Connecting retries transient failures (refused, starting up, shutting down) with backoff.
//
//   auto conn = FP_TRY(pg::Connection::connect(cfg.warehouse), "warehouse");
//   auto rows = FP_TRY(conn.query("SELECT id, note FROM trips WHERE driver = $1", driver), "trips");
//   for (int r = 0; r < rows.size(); ++r) auto note = rows.get<std::optional<std::string>>(r, "note");
//
// Not thread-safe: use one Connection per thread. Nothing here throws.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/pg/params.h"
#include "common/pg/rows.h"
#include "common/retry.h"

namespace fp::pg {

struct ConnectOptions {
  // Bounds each connection attempt (libpq connect_timeout, whole seconds, minimum 2).
  int connect_timeout_s = 5;
  // Server-side limit for every statement (SET statement_timeout). Must be positive: every call has a limit.
  std::chrono::milliseconds statement_timeout{30000};
  // How much longer than statement_timeout the client waits before cancelling the statement itself (covers
  // a server that cannot enforce its own timeout, e.g. a hung network), and again for the cancel's answer.
  std::chrono::milliseconds client_grace{5000};
  // Retries of transient connect failures.
  Backoff backoff{};
  // Session settings applied after every (re)connect via set_config(), e.g. {"search_path", "scratch"}.
  std::vector<std::pair<std::string, std::string>> settings;
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };
struct TxOptions {
  Isolation isolation = Isolation::kReadCommitted;
  bool read_only = false;
};

struct Notification {
  std::string channel;
  std::string payload;
  int backend_pid = 0;
};

namespace detail {
struct ConnState;
}
class Transaction;
class CopyIn;

// The variadic front of a class's query_params() and exec_prepared_params(), shared by Connection and
// Client: $1..$n bound to args (ints, doubles, bools, strings, std::optional, nullopt).
template <typename Derived>
class StatementArgs {
 public:
  template <typename... Args>
  Result<Rows> query(std::string_view sql, Args&&... args) {
    return static_cast<Derived&>(*this).query_params(sql, make_params(std::forward<Args>(args)...));
  }
  template <typename... Args>
  Result<Rows> exec_prepared(const std::string& name, Args&&... args) {
    return static_cast<Derived&>(*this).exec_prepared_params(name, make_params(std::forward<Args>(args)...));
  }
};

class Connection : public StatementArgs<Connection> {
 public:
  // Connects, retrying transient failures per opts.backoff (and giving up early on shutdown).
  static Result<Connection> connect(const PgConfig& cfg, ConnectOptions opts = {});
  // One attempt, no retry.
  static Result<Connection> connect_once(const PgConfig& cfg, const ConnectOptions& opts = {});

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one or more ';'-separated statements with the simple query protocol (no parameters): DDL,
  // migrations. The first failing statement's error is returned; later ones do not run.
  Status exec(std::string_view sql);

  // Runs one statement with $1..$n bound to params (query() binds its arguments, see StatementArgs).
  Result<Rows> query_params(std::string_view sql, const Params& params);

  // Prepared statements live as long as the session; Client re-prepares them after a reconnect.
  Status prepare(const std::string& name, std::string_view sql);
  Result<Rows> exec_prepared_params(const std::string& name, const Params& params);

  // BEGIN with the given isolation; the Transaction rolls back when destroyed uncommitted. No nesting.
  // The Transaction must not outlive this Connection.
  Result<Transaction> begin(TxOptions opts = {});

  // Starts "COPY ... FROM STDIN"; write rows through the returned writer, then finish(). Until the writer
  // is finished or aborted (or destroyed, which aborts) the connection accepts nothing else.
  // The COPY runs under statement_timeout like any statement: raise it for large loads.
  Result<CopyIn> copy_in(std::string_view copy_sql);
  // Runs "COPY ... TO STDOUT" and hands the data to sink in chunks of about 64 KiB (whole rows), so memory
  // stays flat whatever the table size. A sink error cancels the COPY and is returned. Returns the row count.
  Result<int64_t> copy_out(std::string_view copy_sql, const std::function<Status(std::string_view)>& sink);

  // SELECT 1 answered within timeout.
  bool is_healthy(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

  // Changes statement_timeout for this session (and for Client reconnects). Refused inside a transaction,
  // where a rollback would silently undo it.
  Status set_statement_timeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds statement_timeout() const;

  // LISTEN/NOTIFY. wait_for_notify returns nullopt when nothing arrived within timeout.
  Status listen(std::string_view channel);
  Status notify(std::string_view channel, std::string_view payload);
  Result<std::optional<Notification>> wait_for_notify(std::chrono::milliseconds timeout);

  // Quoting for the places parameters cannot go (identifiers in DDL, LISTEN channels). Prefer parameters.
  Result<std::string> quote_identifier(std::string_view name) const;
  Result<std::string> quote_literal(std::string_view value) const;
  // The SCRAM-SHA-256 verifier of a role's password, computed here (libpq's PQencryptPasswordConn), for
  // CREATE/ALTER ROLE ... PASSWORD: the password itself then never travels in a statement, so neither a
  // failing statement's error nor the server's statement log can show it.
  Result<std::string> password_verifier(std::string_view role, std::string_view password) const;

  // True when the session is known to be gone (libpq says so, or we closed it after a timeout).
  bool broken() const;
  // Reads whatever the server sent while we were idle, without blocking; false if it closed the session
  // (e.g. pg_terminate_backend, server restart). Cheap; Client calls it before every statement.
  bool probe_alive();
  // A Transaction object is open on this connection.
  bool transaction_open() const;
  // A CopyIn writer or copy_out() is using this connection.
  bool copy_in_progress() const;
  // The server's transaction state after the last statement was not idle (covers exec("BEGIN")).
  bool was_in_transaction() const;
  int backend_pid() const;
  const PgConfig& config() const;
  const ConnectOptions& options() const;
  const std::vector<std::pair<std::string, std::string>>& prepared_statements() const;
  PGconn* raw();

 private:
  explicit Connection(std::unique_ptr<detail::ConnState> s);
  // Heap-allocated so Transaction and CopyIn keep pointing at it when the Connection object moves.
  std::unique_ptr<detail::ConnState> s_;
};

class Transaction {
 public:
  Transaction(Transaction&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  // COMMIT. An error if the server rolled back instead (an earlier statement failed) or the connection
  // dropped (then the outcome is unknown and the message says so).
  Status commit();
  Status rollback();
  bool active() const { return s_ != nullptr; }

 private:
  friend class Connection;
  explicit Transaction(detail::ConnState* s) : s_(s) {}
  detail::ConnState* s_;
};

}  // namespace fp::pg

#include "common/pg/copy.h"  // IWYU pragma: export (CopyIn is part of Connection's interface)
