#include "common/pg/connection.h"

#include <poll.h>

#include "common/log.h"
#include "common/pg/error.h"
#include "common/pg/internal.h"

namespace fp::pg {

using detail::ConnState;

namespace {

void notice_to_log(void* arg, const PGresult* res) {
  const std::string m = one_line(PQresultErrorMessage(res));
  const char* sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  const std::string_view severity = sev ? sev : "";
  // A FATAL arriving while idle (pg_terminate_backend, server shutdown, idle timeout) is delivered as a
  // notice. The server closes the session right after it, so remember it: probe_alive() must not wait to
  // see the close, which may lag behind the message.
  if (severity == "FATAL" || severity == "PANIC") static_cast<ConnState*>(arg)->fatal_seen = true;
  if (severity == "WARNING" || severity == "FATAL" || severity == "PANIC")
    log::warn("pg", "server: {}", m);
  else
    log::debug("pg", "server: {}", m);
}

std::string describe(const PgConfig& cfg) {
  return fmt::format("connect to postgres {}:{}/{} as {}", cfg.host, cfg.port, cfg.dbname, cfg.user);
}

}  // namespace

Connection::Connection(std::unique_ptr<ConnState> s) : s_(std::move(s)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<Connection> Connection::connect_once(const PgConfig& cfg, const ConnectOptions& opts) {
  const std::string what = describe(cfg);
  if (opts.statement_timeout.count() <= 0)
    return invalid_input("{}: statement_timeout must be positive (every statement needs a limit)", what);
  auto s = std::make_unique<ConnState>();
  s->cfg = cfg;
  s->opts = opts;
  // Keepalives notice a dead peer on an idle session; active waits are bounded by our own deadlines.
  const std::string conninfo = cfg.conninfo(opts.connect_timeout_s) +
                               " keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3";
  s->conn = PQconnectdb(conninfo.c_str());
  if (!s->conn) return transient_error("{}: out of memory", what);
  if (PQstatus(s->conn) != CONNECTION_OK) {
    const std::string msg = one_line(PQerrorMessage(s->conn));
    return Error(fmt::format("{}: {}", what, msg), classify_connect_failure(msg));
  }
  PQsetNoticeReceiver(s->conn, notice_to_log, s.get());
  // Nonblocking mode so that sending, too, is bounded by our deadlines (see detail::flush).
  if (PQsetnonblocking(s->conn, 1) != 0) return connection_error(s->conn, what);
  Connection c(std::move(s));
  auto settings = opts.settings;
  settings.emplace_back("statement_timeout", fmt::format("{}ms", opts.statement_timeout.count()));
  for (const auto& [name, value] : settings) {
    auto r = c.query("SELECT set_config($1, $2, false)", name, value);
    if (!r.ok()) return std::move(r).error().context(fmt::format("{}: set {}", what, name));
  }
  return c;
}

Result<Connection> Connection::connect(const PgConfig& cfg, ConnectOptions opts) {
  return retry<Connection>(describe(cfg), opts.backoff, [&]() { return connect_once(cfg, opts); });
}

Status Connection::exec(std::string_view sql) {
  const std::string what = fmt::format("exec {:?}", detail::sql_summary(sql));
  const std::string text(sql);
  auto r =
      detail::run(*s_, what, s_->client_timeout(), [&](PGconn* c) { return PQsendQuery(c, text.c_str()); });
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

namespace {
// Pointers into params for libpq; valid while params lives.
std::vector<const char*> param_pointers(const Params& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p ? p->c_str() : nullptr);
  return out;
}
}  // namespace

Result<Rows> Connection::query_params(std::string_view sql, const Params& params) {
  const std::string what = fmt::format("query {:?}", detail::sql_summary(sql));
  FP_CHECK(validate_params(params), what);
  const std::string text(sql);
  const auto values = param_pointers(params);
  return detail::run(*s_, what, s_->client_timeout(), [&](PGconn* c) {
    return PQsendQueryParams(c, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0);
  });
}

Status Connection::prepare(const std::string& name, std::string_view sql) {
  const std::string what = fmt::format("prepare {:?}", name);
  const std::string text(sql);
  auto r = detail::run(*s_, what, s_->client_timeout(),
                       [&](PGconn* c) { return PQsendPrepare(c, name.c_str(), text.c_str(), 0, nullptr); });
  if (!r.ok()) return std::move(r).error();
  std::erase_if(s_->prepared, [&](const auto& p) { return p.first == name; });
  s_->prepared.emplace_back(name, text);
  return ok_status();
}

Result<Rows> Connection::exec_prepared_params(const std::string& name, const Params& params) {
  const std::string what = fmt::format("execute prepared {:?}", name);
  FP_CHECK(validate_params(params), what);
  const auto values = param_pointers(params);
  return detail::run(*s_, what, s_->client_timeout(), [&](PGconn* c) {
    return PQsendQueryPrepared(c, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                               nullptr, 0);
  });
}

Result<Transaction> Connection::begin(TxOptions opts) {
  if (s_->tx_open) return make_error("begin: a transaction is already open on this connection (no nesting)");
  std::string sql = "BEGIN ISOLATION LEVEL ";
  switch (opts.isolation) {
    case Isolation::kReadCommitted:
      sql += "READ COMMITTED";
      break;
    case Isolation::kRepeatableRead:
      sql += "REPEATABLE READ";
      break;
    case Isolation::kSerializable:
      sql += "SERIALIZABLE";
      break;
  }
  sql += opts.read_only ? " READ ONLY" : " READ WRITE";
  FP_CHECK(exec(sql), "begin");
  s_->tx_open = true;
  return Transaction(s_.get());
}

bool Connection::is_healthy(std::chrono::milliseconds timeout) {
  if (!s_->conn || s_->copy_active || !probe_alive()) return false;
  auto r = detail::run(*s_, "health check", timeout, [](PGconn* c) {
    return PQsendQueryParams(c, "SELECT 1", 0, nullptr, nullptr, nullptr, nullptr, 0);
  });
  if (!r.ok()) {
    log::debug("pg", "health check failed: {}", r.error().message);
    return false;
  }
  auto v = r->get<int64_t>(0, 0);
  return v.ok() && *v == 1;
}

Status Connection::set_statement_timeout(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return invalid_input("statement_timeout must be positive");
  if (s_->tx_open || s_->last_tx_status != PQTRANS_IDLE)
    return make_error("set_statement_timeout inside a transaction would be undone by a rollback");
  auto r = query("SELECT set_config('statement_timeout', $1, false)", fmt::format("{}ms", timeout.count()));
  if (!r.ok()) return std::move(r).error().context("set statement_timeout");
  s_->opts.statement_timeout = timeout;
  return ok_status();
}

std::chrono::milliseconds Connection::statement_timeout() const {
  return s_->opts.statement_timeout;
}

Status Connection::listen(std::string_view channel) {
  auto q = quote_identifier(channel);
  if (!q.ok()) return std::move(q).error().context("listen");
  return exec("LISTEN " + *q);
}

Status Connection::notify(std::string_view channel, std::string_view payload) {
  auto r = query("SELECT pg_notify($1, $2)", channel, payload);
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

Result<std::optional<Notification>> Connection::wait_for_notify(std::chrono::milliseconds timeout) {
  FP_CHECK(detail::check_usable(*s_, "wait for notification"), "wait for notification");
  const auto at = detail::Clock::now() + timeout;
  for (;;) {
    if (PGnotify* n = PQnotifies(s_->conn)) {
      Notification out{n->relname, n->extra ? n->extra : "", n->be_pid};
      PQfreemem(n);
      return std::optional<Notification>(std::move(out));
    }
    auto ev = detail::wait_socket(s_->conn, POLLIN, at);
    if (!ev.ok()) return std::move(ev).error().context("wait for notification");
    if (*ev == 0) return std::optional<Notification>{};
    if (!PQconsumeInput(s_->conn)) return connection_error(s_->conn, "wait for notification");
  }
}

namespace {
// PQescapeIdentifier or PQescapeLiteral, which fail only on invalid encoding (or out of memory).
Result<std::string> quote(PGconn* conn, std::string_view what, std::string_view text,
                          char* (*escape)(PGconn*, const char*, size_t)) {
  if (!conn) return transient_error("{}: connection is closed", what);
  char* q = escape(conn, text.data(), text.size());
  if (!q)
    return Error(fmt::format("{}: {}", what, one_line(PQerrorMessage(conn))), Error::Kind::kInvalidInput);
  std::string out(q);
  PQfreemem(q);
  return out;
}
}  // namespace

Result<std::string> Connection::quote_identifier(std::string_view name) const {
  return quote(s_->conn, "quote identifier", name, PQescapeIdentifier);
}

Result<std::string> Connection::quote_literal(std::string_view value) const {
  return quote(s_->conn, "quote literal", value, PQescapeLiteral);
}

Result<std::string> Connection::password_verifier(std::string_view role, std::string_view password) const {
  if (!s_->conn) return make_error("password verifier: no connection");
  const std::string r(role), p(password);
  char* v = PQencryptPasswordConn(s_->conn, p.c_str(), r.c_str(), "scram-sha-256");
  // The error names the failure (out of memory, an unknown algorithm), never the password.
  if (v == nullptr)
    return make_error("password verifier for role {}: {}", r, one_line(PQerrorMessage(s_->conn)));
  std::string out(v);
  PQfreemem(v);
  return out;
}

bool Connection::broken() const {
  return !s_->conn || PQstatus(s_->conn) == CONNECTION_BAD;
}

bool Connection::probe_alive() {
  if (broken()) return false;
  if (s_->copy_active) return true;  // input belongs to the COPY; don't interfere
  // PQconsumeInput never blocks; it fails (and libpq marks the connection bad) on EOF. A terminated session
  // first sends its FATAL message and then closes, and one read may return just the message, so read
  // while the socket stays readable (bounded: a busy LISTEN channel could keep it readable).
  for (int reads = 0; reads < 16; ++reads) {
    auto ev = detail::wait_socket(s_->conn, POLLIN, detail::Clock::now());
    if (!ev.ok() || *ev == 0) break;
    if (!PQconsumeInput(s_->conn)) {
      log::info("pg", "connection to {}:{} lost while idle: {}", s_->cfg.host, s_->cfg.port,
                one_line(PQerrorMessage(s_->conn)));
      return false;
    }
  }
  return !broken();
}

bool Connection::transaction_open() const {
  return s_->tx_open;
}
bool Connection::copy_in_progress() const {
  return s_->copy_active;
}
bool Connection::was_in_transaction() const {
  return s_->last_tx_status != PQTRANS_IDLE;
}
int Connection::backend_pid() const {
  return s_->conn ? PQbackendPID(s_->conn) : 0;
}
const PgConfig& Connection::config() const {
  return s_->cfg;
}
const ConnectOptions& Connection::options() const {
  return s_->opts;
}
const std::vector<std::pair<std::string, std::string>>& Connection::prepared_statements() const {
  return s_->prepared;
}
PGconn* Connection::raw() {
  return s_->conn;
}

// ---- Transaction ----

namespace {
// A transaction on a lost connection is over, and the Transaction's owner learns so through it; Client
// need not report the loss again.
void forget_lost_transaction(ConnState& s) {
  if (s.lost()) s.last_tx_status = PQTRANS_IDLE;
}
}  // namespace

Transaction::~Transaction() {
  if (!s_) return;
  auto st = rollback();
  if (!st.ok()) log::warn("pg", "implicit rollback: {}", st.error().message);
}

Status Transaction::commit() {
  if (!s_) return make_error("commit: transaction already ended");
  ConnState* s = std::exchange(s_, nullptr);
  s->tx_open = false;
  forget_lost_transaction(*s);
  auto r = detail::run(*s, "commit", s->client_timeout(), [](PGconn* c) { return PQsendQuery(c, "COMMIT"); });
  if (!r.ok()) {
    if (!s->conn || PQstatus(s->conn) == CONNECTION_BAD)
      return std::move(r).error().context("commit (connection lost: outcome unknown)");
    return std::move(r).error();
  }
  // COMMIT of a transaction that had an error answers ROLLBACK rather than failing.
  if (r->command_tag() == "ROLLBACK")
    return make_error("commit: the transaction had failed and was rolled back");
  return ok_status();
}

Status Transaction::rollback() {
  if (!s_) return make_error("rollback: transaction already ended");
  ConnState* s = std::exchange(s_, nullptr);
  s->tx_open = false;
  forget_lost_transaction(*s);
  if (s->lost()) return ok_status();  // the server rolled it back
  if (s->copy_active) return make_error("rollback: a COPY is still in progress");
  auto r =
      detail::run(*s, "rollback", s->client_timeout(), [](PGconn* c) { return PQsendQuery(c, "ROLLBACK"); });
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

}  // namespace fp::pg
