// Internals shared by connection.cpp and copy.cpp: the session state and the bounded-wait primitives that
// every operation is built on. Not part of the public API.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/pg/connection.h"
#include "common/pg/error.h"
#include "common/pg/rows.h"

namespace fp::pg::detail {

using Clock = std::chrono::steady_clock;

struct ConnState {
  PGconn* conn = nullptr;
  PgConfig cfg;
  ConnectOptions opts;
  bool tx_open = false;      // a Transaction object is alive
  bool copy_active = false;  // a COPY is in progress; nothing else may run
  bool fatal_seen = false;   // the server announced the session's end while we were idle
  PGTransactionStatusType last_tx_status = PQTRANS_IDLE;
  std::vector<std::pair<std::string, std::string>> prepared;

  ~ConnState() { close(); }
  // The session is gone or about to go: closed by us, broken per libpq, or ended by a server FATAL.
  bool lost() const { return !conn || PQstatus(conn) == CONNECTION_BAD || fatal_seen; }
  void close() {
    if (conn) PQfinish(conn);
    conn = nullptr;
  }
  // How long the client waits for one statement before cancelling it itself.
  std::chrono::milliseconds client_timeout() const { return opts.statement_timeout + opts.client_grace; }
};

// A wait bound. On expiry the first time, the statement is cancelled and the bound extended by `grace`
// for the cancel's answer; on expiry the second time the connection is closed.
struct Deadline {
  Clock::time_point at;
  std::chrono::milliseconds limit;
  std::chrono::milliseconds grace;
  bool cancelled = false;
  static Deadline after(std::chrono::milliseconds limit, std::chrono::milliseconds grace) {
    return Deadline{Clock::now() + limit, limit, grace};
  }
};

// Polls the connection's socket for events until at; returns the revents, 0 on timeout.
Result<short> wait_socket(PGconn* conn, short events, Clock::time_point at);
// Fails unless a statement may be sent now (connected, no COPY in progress).
Status check_usable(const ConnState& s, std::string_view what);
// Pushes libpq's output buffer to the server within the deadline (reading input meanwhile, as libpq
// requires in nonblocking mode). On timeout the connection is closed: a half-sent message cannot be undone.
Status flush(ConnState& s, Clock::time_point at, std::string_view what);
// Waits until PQgetResult will not block, cancelling on deadline as described for Deadline.
Status await_result(ConnState& s, Deadline& d, std::string_view what);
// Sends a cancel request for the running statement over a separate connection.
void send_cancel(PGconn* conn);
// After a statement was sent: collects all its results. Returns the last one, or the first error.
Result<Rows> collect(ConnState& s, Deadline d, std::string_view what);
// Sends with `send` (a PQsend* call), flushes and collects.
template <typename Send>
Result<Rows> run(ConnState& s, std::string_view what, std::chrono::milliseconds limit, Send&& send) {
  FP_CHECK(check_usable(s, what), what);
  if (!send(s.conn)) return connection_error(s.conn, what);
  auto d = Deadline::after(limit, s.opts.client_grace);
  FP_CHECK(flush(s, d.at, what), "send");
  return collect(s, d, what);
}
// Abbreviates SQL for error context.
std::string sql_summary(std::string_view sql);

}  // namespace fp::pg::detail
