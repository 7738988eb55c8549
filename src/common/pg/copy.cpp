// COPY IN and COPY OUT. Every send and every wait is bounded by the connection's client timeout measured
// from the last progress, so a stalled server or network surfaces as an error instead of a hang.
#include <poll.h>

#include "common/log.h"
#include "common/pg/connection.h"
#include "common/pg/error.h"
#include "common/pg/internal.h"

namespace fp::pg {

using detail::Clock;
using detail::ConnState;

namespace {

// After a COPY's data ended: collects the final result and returns its row count.
Result<int64_t> copy_result(ConnState& s, std::string_view what) {
  auto rows = detail::collect(s, detail::Deadline::after(s.client_timeout(), s.opts.client_grace), what);
  if (!rows.ok()) return std::move(rows).error();
  return rows->affected();
}

// A PQputCopyData/PQputCopyEnd/PQgetCopyData call failed. When the server ended the COPY with an error
// (a unique violation mid-stream, a bad row), libpq hands that error out as the COPY's result, which carries
// the SQLSTATE; take it from there. Otherwise (and while a result is still on its way, which must not be
// waited for here) the connection's message is all there is.
Error copy_error(ConnState& s, std::string_view what) {
  if (!s.conn || (PQstatus(s.conn) == CONNECTION_OK && PQisBusy(s.conn)))
    return connection_error(s.conn, what);
  detail::ResultPtr r(PQgetResult(s.conn));
  if (r && (PQresultStatus(r.get()) == PGRES_FATAL_ERROR || PQresultStatus(r.get()) == PGRES_BAD_RESPONSE))
    return result_error(r.get(), s.conn, what);
  return connection_error(s.conn, what);
}

// Sends a COPY statement and waits for the server to switch into the expected COPY mode.
Status start_copy(ConnState& s, std::string_view sql, ExecStatusType expected, std::string_view what) {
  FP_CHECK(detail::check_usable(s, what), what);
  const std::string text(sql);
  if (!PQsendQuery(s.conn, text.c_str())) return connection_error(s.conn, what);
  auto d = detail::Deadline::after(s.client_timeout(), s.opts.client_grace);
  FP_CHECK(detail::flush(s, d.at, what), "send");
  FP_CHECK(detail::await_result(s, d, what), "start COPY");
  detail::ResultPtr r(PQgetResult(s.conn));
  if (r && PQresultStatus(r.get()) == expected) return ok_status();
  // Not the COPY we expected (an error, or a different statement): hand it to collect, which also drains
  // any COPY mode we did not ask for, and report.
  Error e =
      r && (PQresultStatus(r.get()) == PGRES_FATAL_ERROR || PQresultStatus(r.get()) == PGRES_BAD_RESPONSE)
          ? result_error(r.get(), s.conn, what)
          : invalid_input("{}: not a COPY {} statement", what,
                          expected == PGRES_COPY_IN ? "FROM STDIN" : "TO STDOUT");
  r.reset();
  if (s.conn && PQstatus(s.conn) != CONNECTION_BAD) {
    auto rest = detail::collect(s, d, what);
    if (!rest.ok()) log::debug("pg", "{}: {}", what, rest.error().message);
  }
  return e;
}

}  // namespace

Result<CopyIn> Connection::copy_in(std::string_view copy_sql) {
  const std::string what = fmt::format("copy in {:?}", detail::sql_summary(copy_sql));
  FP_CHECK(start_copy(*s_, copy_sql, PGRES_COPY_IN, what), "copy in");
  return CopyIn(s_.get());
}

Result<int64_t> Connection::copy_out(std::string_view copy_sql,
                                     const std::function<Status(std::string_view)>& sink) {
  const std::string what = fmt::format("copy out {:?}", detail::sql_summary(copy_sql));
  ConnState& s = *s_;
  FP_CHECK(start_copy(s, copy_sql, PGRES_COPY_OUT, what), "copy out");
  s.copy_active = true;
  std::string chunk;
  chunk.reserve(CopyIn::kBatchBytes + 4096);
  std::optional<Error> sink_error;
  auto deliver = [&]() {
    if (!sink_error && !chunk.empty()) {
      auto st = sink(chunk);
      if (!st.ok()) {
        sink_error = std::move(st).error().context("copy out sink");
        // Stop the server producing more; what is already on the way is read and discarded below.
        detail::send_cancel(s.conn);
      }
    }
    chunk.clear();
  };
  auto at = Clock::now() + s.client_timeout();
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(s.conn, &buf, 1);
    if (n > 0) {
      if (!sink_error) chunk.append(buf, static_cast<size_t>(n));
      PQfreemem(buf);
      if (chunk.size() >= CopyIn::kBatchBytes) deliver();
      at = Clock::now() + s.client_timeout();
      continue;
    }
    if (buf) PQfreemem(buf);
    if (n == -1) break;  // the COPY ended; its final result follows
    if (n == -2) {
      s.copy_active = false;
      return copy_error(s, what);
    }
    auto ev = detail::wait_socket(s.conn, POLLIN, at);
    if (!ev.ok() || *ev == 0) {
      s.copy_active = false;
      s.close();
      return transient_error("{}: no data for {} ms; connection closed", what, s.client_timeout().count());
    }
    if (!PQconsumeInput(s.conn)) {
      s.copy_active = false;
      return connection_error(s.conn, what);
    }
  }
  deliver();
  s.copy_active = false;
  auto count = copy_result(s, what);
  if (sink_error) return std::move(*sink_error).context(what);
  return count;
}

// ---- CopyIn ----

CopyIn::CopyIn(ConnState* s) : s_(s) {
  s_->copy_active = true;
  buf_.reserve(kBatchBytes);
}

CopyIn::~CopyIn() {
  if (!s_) return;
  auto st = abort("COPY abandoned by the client before finish()");
  if (!st.ok()) log::warn("pg", "abort unfinished COPY: {}", st.error().message);
}

Status CopyIn::put(std::string_view chunk) {
  const auto at = Clock::now() + s_->client_timeout();
  for (;;) {
    // In nonblocking mode 0 means libpq's buffer is full: let the socket drain and try again.
    const int rc = PQputCopyData(s_->conn, chunk.data(), static_cast<int>(chunk.size()));
    if (rc == 1) break;
    if (rc < 0) return copy_error(*s_, "send COPY data");
    auto ev = detail::wait_socket(s_->conn, POLLOUT | POLLIN, at);
    if (!ev.ok()) return std::move(ev).error().context("send COPY data");
    if (*ev == 0)
      return transient_error("send COPY data: server accepted nothing for {} ms",
                             s_->client_timeout().count());
    if ((*ev & (POLLIN | POLLHUP | POLLERR)) && !PQconsumeInput(s_->conn))
      return connection_error(s_->conn, "send COPY data");
    if (PQflush(s_->conn) < 0) return connection_error(s_->conn, "send COPY data");
  }
  return detail::flush(*s_, at, "send COPY data");
}

Error CopyIn::fail(Error e) {
  if (s_) {
    auto st = abort(e.message);
    if (!st.ok()) log::debug("pg", "abort COPY after error: {}", st.error().message);
  }
  return e;
}

Status CopyIn::write(std::string_view data) {
  if (!s_) return make_error("COPY write: the COPY already ended");
  if (!s_->conn) return fail(transient_error("COPY write: connection is closed"));
  size_t off = 0;
  if (!buf_.empty() || data.size() < kBatchBytes) {
    const size_t take = std::min(kBatchBytes - buf_.size(), data.size());
    buf_.append(data.substr(0, take));
    off = take;
    if (buf_.size() < kBatchBytes) return ok_status();
    if (auto st = put(buf_); !st.ok()) return fail(std::move(st).error());
    buf_.clear();
  }
  // Large writes go out in full batches straight from the caller's memory, without copying.
  while (data.size() - off >= kBatchBytes) {
    if (auto st = put(data.substr(off, kBatchBytes)); !st.ok()) return fail(std::move(st).error());
    off += kBatchBytes;
  }
  buf_.append(data.substr(off));
  return ok_status();
}

Result<int64_t> CopyIn::finish() {
  if (!s_) return make_error("COPY finish: the COPY already ended");
  if (!s_->conn) return fail(transient_error("COPY finish: connection is closed"));
  if (!buf_.empty()) {
    if (auto st = put(buf_); !st.ok()) return fail(std::move(st).error().context("COPY finish"));
    buf_.clear();
  }
  ConnState* s = s_;
  const auto at = Clock::now() + s->client_timeout();
  for (;;) {
    const int rc = PQputCopyEnd(s->conn, nullptr);
    if (rc == 1) break;
    if (rc < 0) return fail(copy_error(*s, "COPY finish"));
    auto ev = detail::wait_socket(s->conn, POLLOUT, at);
    if (!ev.ok() || *ev == 0) return fail(transient_error("COPY finish: could not end the COPY in time"));
  }
  if (auto st = detail::flush(*s, at, "COPY finish"); !st.ok()) return fail(std::move(st).error());
  s_ = nullptr;
  s->copy_active = false;
  // The server validates rows as they arrive; a bad row's error (and zero rows stored) shows up here.
  return copy_result(*s, "COPY finish");
}

Status CopyIn::abort(std::string_view reason) {
  if (!s_) return ok_status();
  ConnState* s = std::exchange(s_, nullptr);
  buf_.clear();
  s->copy_active = false;
  if (!s->conn || PQstatus(s->conn) == CONNECTION_BAD) return ok_status();  // the server discards it anyway
  const std::string msg(reason.empty() ? "aborted by client" : reason);
  const auto at = Clock::now() + s->client_timeout();
  for (;;) {
    const int rc = PQputCopyEnd(s->conn, msg.c_str());
    if (rc == 1) break;
    if (rc < 0) {
      if (PQstatus(s->conn) == CONNECTION_BAD) return ok_status();
      // libpq left COPY mode already (the server ended it): collect its answer so the connection is idle.
      if (auto r = copy_result(*s, "abort COPY"); !r.ok()) log::debug("pg", "{}", r.error().message);
      return ok_status();
    }
    auto ev = detail::wait_socket(s->conn, POLLOUT, at);
    if (!ev.ok() || *ev == 0) {
      s->close();  // cannot end the COPY cleanly; closing the session discards it
      return transient_error("abort COPY: could not reach the server; connection closed");
    }
  }
  FP_CHECK(detail::flush(*s, at, "abort COPY"), "abort COPY");
  // The expected answer is an error ("COPY from stdin failed: <reason>"); anything else is surprising.
  auto r = copy_result(*s, "abort COPY");
  if (r.ok()) return make_error("abort COPY: the server reports success ({} rows) despite the abort", *r);
  return ok_status();
}

}  // namespace fp::pg
