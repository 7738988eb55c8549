#include "common/pg/client.h"

#include "common/log.h"

namespace fp::pg {

Result<Client> Client::connect(const PgConfig& cfg, ConnectOptions opts) {
  auto c = Connection::connect(cfg, std::move(opts));
  if (!c.ok()) return std::move(c).error();
  return Client(std::move(c).value());
}

Status Client::ensure_connected() {
  if (conn_.probe_alive()) return ok_status();
  if (conn_.copy_in_progress())
    return transient_error("connection lost during a COPY: nothing was stored; end the COPY and retry it");
  if (conn_.transaction_open())
    return transient_error(
        "connection lost inside a transaction: its work is rolled back; end the Transaction and retry it "
        "whole");
  if (conn_.was_in_transaction() && !loss_reported_) {
    // A transaction begun with exec("BEGIN"): say so once, then start afresh on the next call.
    loss_reported_ = true;
    return transient_error("connection lost inside a transaction: its work is rolled back; retry it whole");
  }
  log::info("pg", "reconnecting to {}:{}/{}", conn_.config().host, conn_.config().port,
            conn_.config().dbname);
  // The session settings and statement_timeout (even if changed since) come along in options().
  auto fresh = Connection::connect(conn_.config(), conn_.options());
  if (!fresh.ok()) return std::move(fresh).error().context("reconnect");
  for (const auto& [name, sql] : conn_.prepared_statements())
    FP_CHECK(fresh->prepare(name, sql), "reconnect: re-prepare");
  conn_ = std::move(fresh).value();
  loss_reported_ = false;
  ++reconnects_;
  return ok_status();
}

Status Client::exec(std::string_view sql) {
  FP_CHECK(ensure_connected(), "exec");
  return conn_.exec(sql);
}

Result<Rows> Client::query_params(std::string_view sql, const Params& params) {
  FP_CHECK(ensure_connected(), "query");
  return conn_.query_params(sql, params);
}

Status Client::prepare(const std::string& name, std::string_view sql) {
  FP_CHECK(ensure_connected(), "prepare");
  return conn_.prepare(name, sql);
}

Result<Rows> Client::exec_prepared_params(const std::string& name, const Params& params) {
  FP_CHECK(ensure_connected(), "execute prepared");
  return conn_.exec_prepared_params(name, params);
}

Result<Transaction> Client::begin(TxOptions opts) {
  FP_CHECK(ensure_connected(), "begin");
  return conn_.begin(opts);
}

Result<CopyIn> Client::copy_in(std::string_view copy_sql) {
  FP_CHECK(ensure_connected(), "copy in");
  return conn_.copy_in(copy_sql);
}

Result<int64_t> Client::copy_out(std::string_view copy_sql,
                                 const std::function<Status(std::string_view)>& sink) {
  FP_CHECK(ensure_connected(), "copy out");
  return conn_.copy_out(copy_sql, sink);
}

bool Client::is_healthy(std::chrono::milliseconds timeout) {
  return ensure_connected().ok() && conn_.is_healthy(timeout);
}

}  // namespace fp::pg
