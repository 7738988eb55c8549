// The session's bounded-wait primitives declared in internal.h: socket waits, flushing, cancelling on a
// deadline, and collecting a statement's results.
#include "common/pg/internal.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace fp::pg {
namespace detail {

Result<short> wait_socket(PGconn* conn, short events, Clock::time_point at) {
  const int fd = conn ? PQsocket(conn) : -1;
  if (fd < 0) return transient_error("connection has no socket");
  for (;;) {
    // A deadline already passed still gets one zero-timeout poll: probing without waiting is a use.
    const auto left =
        std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(at - Clock::now()).count());
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (rc > 0) return p.revents;
    if (rc == 0 && left == 0) return short{0};
    if (rc < 0 && errno != EINTR) return make_error("poll: {}", std::strerror(errno));
  }
}

Status check_usable(const ConnState& s, std::string_view) {
  if (!s.conn) return transient_error("connection is closed (it timed out or was lost earlier)");
  if (PQstatus(s.conn) == CONNECTION_BAD) return connection_error(s.conn, "connection lost");
  if (s.fatal_seen)
    return transient_error("connection lost: the server ended the session (see the log for why)");
  if (s.copy_active) return make_error("a COPY is in progress on this connection; finish or abort it first");
  return ok_status();
}

Status flush(ConnState& s, Clock::time_point at, std::string_view what) {
  for (;;) {
    const int rc = PQflush(s.conn);
    if (rc == 0) return ok_status();
    if (rc < 0) return connection_error(s.conn, what);
    auto ev = wait_socket(s.conn, POLLIN | POLLOUT, at);
    if (!ev.ok()) return std::move(ev).error().context(what);
    if (*ev == 0) {
      s.close();
      return transient_error("{}: could not send to the server in time; connection closed", what);
    }
    if ((*ev & (POLLIN | POLLHUP | POLLERR)) && !PQconsumeInput(s.conn))
      return connection_error(s.conn, what);
  }
}

void send_cancel(PGconn* conn) {
  PGcancel* c = PQgetCancel(conn);
  if (!c) return;
  char err[256] = {0};
  if (!PQcancel(c, err, sizeof err)) log::warn("pg", "cancel request failed: {}", err);
  PQfreeCancel(c);
}

Status await_result(ConnState& s, Deadline& d, std::string_view what) {
  while (PQisBusy(s.conn)) {
    auto ev = wait_socket(s.conn, POLLIN, d.at);
    if (!ev.ok()) return std::move(ev).error().context(what);
    if (*ev == 0) {
      if (!d.cancelled) {
        log::warn("pg", "{}: no answer after {} ms; cancelling", what, d.limit.count());
        send_cancel(s.conn);
        d.cancelled = true;
        d.at = Clock::now() + d.grace;
        continue;
      }
      s.close();
      return transient_error("{}: no answer within {} ms, nor to the cancel request; connection closed", what,
                             d.limit.count());
    }
    if (!PQconsumeInput(s.conn)) return connection_error(s.conn, what);
  }
  return ok_status();
}

// Reads and discards the rest of a COPY TO STDOUT that nobody wants (after a sink error or a COPY that
// arrived through query()), so the connection returns to idle.
static Status drain_copy_out(ConnState& s, Deadline& d, std::string_view what) {
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(s.conn, &buf, 1);
    if (buf) PQfreemem(buf);
    if (n > 0) continue;
    if (n == -1) return ok_status();
    if (n == -2) return connection_error(s.conn, what);
    auto ev = wait_socket(s.conn, POLLIN, d.at);
    if (!ev.ok()) return std::move(ev).error();
    if (*ev == 0) {
      s.close();
      return transient_error("{}: COPY output did not end in time; connection closed", what);
    }
    if (!PQconsumeInput(s.conn)) return connection_error(s.conn, what);
  }
}

Result<Rows> collect(ConnState& s, Deadline d, std::string_view what) {
  ResultPtr last, first_error;
  std::optional<Error> protocol_error;
  for (;;) {
    FP_CHECK(await_result(s, d, what), "wait for result");
    ResultPtr r(PQgetResult(s.conn));
    if (!r) break;
    switch (PQresultStatus(r.get())) {
      case PGRES_COPY_IN:
        // Only copy_in() may drive a COPY FROM STDIN; end this one with an error so nothing is stored.
        PQputCopyEnd(s.conn, "COPY FROM STDIN must go through copy_in()");
        FP_CHECK(flush(s, d.at, what), "abort COPY");
        protocol_error = make_error("COPY FROM STDIN must go through copy_in()");
        break;
      case PGRES_COPY_OUT:
        FP_CHECK(drain_copy_out(s, d, what), "discard COPY output");
        protocol_error = make_error("COPY TO STDOUT must go through copy_out()");
        break;
      case PGRES_COPY_BOTH:
        s.close();
        return make_error("{}: replication protocol is not supported here; connection closed", what);
      case PGRES_BAD_RESPONSE:
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
        if (!first_error) first_error = std::move(r);
        break;
      default:
        last = std::move(r);
    }
  }
  // UNKNOWN means the connection is gone: keep what we knew before, which tells Client whether the loss
  // happened inside a transaction.
  if (s.conn && PQtransactionStatus(s.conn) != PQTRANS_UNKNOWN)
    s.last_tx_status = PQtransactionStatus(s.conn);
  if (first_error) {
    Error e = result_error(first_error.get(), s.conn, what);
    if (d.cancelled)
      e = std::move(e).context(fmt::format("cancelled by the client after {} ms", d.limit.count()));
    return e;
  }
  if (protocol_error) return std::move(*protocol_error).context(what);
  return Rows(std::move(last));
}

std::string sql_summary(std::string_view sql) {
  std::string s = one_line(sql);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

}  // namespace detail

}  // namespace fp::pg
