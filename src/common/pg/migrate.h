// Versioned SQL migrations. <dir>/NNN_name.sql files are applied in version order, each in its own
// transaction together with its row in fleetpipe_schema_migrations, so a migration is either applied and
// recorded or neither. Re-running is a no-op. A file edited after it was applied (checksum mismatch) is an
// error naming the file: fix forward with a new migration instead. A session advisory lock serialises
// concurrent runs (two `fleetpipe up`s), and the waiting one then sees the other's work as applied.
//
// The migrations table lives in the first schema of the connection's search_path. A migration must not
// contain its own BEGIN/COMMIT, nor statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/pg/connection.h"

namespace fp::migrate {

struct Migration {
  int version = 0;
  std::string name;  // the part after NNN_, without .sql
  std::filesystem::path path;
  std::string sql;
  std::string checksum;  // SHA-256 of the file's bytes, hex
};

// Reads and orders the migrations in dir. Files not ending in .sql are ignored; a .sql file not named
// NNN_name.sql, or two files with the same version, is an error (better than silently skipping one).
Result<std::vector<Migration>> load_dir(const std::filesystem::path& dir);

// SHA-256 of data as lower-case hex.
std::string sha256_hex(std::string_view data);

// Applies pending migrations; returns how many were applied now.
Result<int> apply(pg::Connection& conn, const std::filesystem::path& dir);

}  // namespace fp::migrate
