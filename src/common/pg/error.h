// Turning libpq failures into fp::Error values. The SQLSTATE decides the Error::Kind so callers can retry
// transient conditions (lost connection, server restarting, serialization failures, deadlocks, timeouts)
// without parsing messages; the message keeps everything the server said (SQLSTATE, message, detail, hint).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "common/error.h"

namespace fp::pg {

// Maps a five-character SQLSTATE to an error kind:
//  transient     08xxx connection exceptions, 40001 serialization failure, 40P01 deadlock, 55P03 lock not
//                available, 57014 query canceled (statement timeout), 57P01/57P02/57P03 server shutting down,
//                crashed or starting up, 53300 too many connections;
//  invalid input 22xxx data exceptions, 23xxx integrity constraint violations;
//  not found     3D000 unknown database, 3F000 unknown schema, 42P01 unknown table;
//  permanent     everything else (syntax errors, permissions, ...).
Error::Kind classify_sqlstate(std::string_view sqlstate);

// Classifies a failed connection attempt. libpq exposes no SQLSTATE for connection-time failures, so this
// reads its message: authentication, authorization and unknown-database failures are permanent (retrying
// cannot fix them); everything else (refused, timeout, "the database system is starting up") is transient.
Error::Kind classify_connect_failure(std::string_view libpq_message);

// The error carried by a failed result: "<what>: ERROR 23505: duplicate key ... (detail: ...; hint: ...)",
// with the SQLSTATE in Error::code. A null result or one without SQLSTATE falls back to the connection's
// error message (no code); if the connection is gone the error is transient whatever the result says.
Error result_error(const PGresult* res, const PGconn* conn, std::string_view what);

// The connection's last error message as an Error (transient when the connection is broken).
Error connection_error(const PGconn* conn, std::string_view what);

// The server refused a row because its key already exists (SQLSTATE 23505), by the error's code.
bool is_unique_violation(const Error& e);
// A lock was not granted within lock_timeout (55P03).
bool is_lock_not_available(const Error& e);
// A row broke a CHECK constraint, a partition's bounds included (23514).
bool is_check_violation(const Error& e);
// One statement would change the same row twice, e.g. an upsert whose input holds a key twice (21000).
bool is_cardinality_violation(const Error& e);

// libpq messages end with a newline and may span lines; this joins them into one trimmed line.
std::string one_line(std::string_view libpq_message);

}  // namespace fp::pg
