#include "common/pg/migrate.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "common/files.h"
#include "common/log.h"

namespace fp::migrate {
namespace {

// Arbitrary but fixed: every fleetpipe process must use the same key. ("fpmigrat" in ASCII.)
constexpr int64_t kLockKey = 0x66706d6967726174;

constexpr const char* kCreateTable = R"(CREATE TABLE IF NOT EXISTS fleetpipe_schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()))";

// Holds the session advisory lock; unlocks on every path out of apply(). If the connection dies, the
// server releases the lock with the session.
class SessionLock {
 public:
  explicit SessionLock(pg::Connection& c) : c_(c) {}
  Status acquire() {
    // Waits at most statement_timeout for a concurrent run to finish.
    auto r = c_.query("SELECT pg_advisory_lock($1)", kLockKey);
    if (!r.ok()) return std::move(r).error().context("take migration lock");
    held_ = true;
    return ok_status();
  }
  ~SessionLock() {
    if (!held_ || c_.broken()) return;
    auto r = c_.query("SELECT pg_advisory_unlock($1)", kLockKey);
    if (!r.ok()) log::warn("migrate", "release migration lock: {}", r.error().message);
  }

 private:
  pg::Connection& c_;
  bool held_ = false;
};

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

Result<std::vector<Migration>> load_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Error{fmt::format("migrations directory {} not found", dir.string()), Error::Kind::kNotFound};
  std::vector<Migration> out;
  std::map<int, std::filesystem::path> seen;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() != ".sql" || !it->is_regular_file()) continue;
    const std::string stem = p.stem().string();
    const auto us = stem.find('_');
    int version = -1;
    if (us != std::string::npos && us > 0) {
      auto [end, err] = std::from_chars(stem.data(), stem.data() + us, version);
      if (err != std::errc() || end != stem.data() + us) version = -1;
    }
    if (version < 0 || us + 1 >= stem.size())
      return invalid_input("migration {} is not named NNN_name.sql", p.string());
    if (auto [prev, fresh] = seen.emplace(version, p); !fresh)
      return invalid_input("migrations {} and {} share version {}", prev->second.string(), p.string(),
                           version);
    Migration m{version, stem.substr(us + 1), p, FP_TRY(read_file(p), "load migrations"), {}};
    m.checksum = sha256_hex(m.sql);
    out.push_back(std::move(m));
  }
  if (ec) return make_error("list {}: {}", dir.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

Result<int> apply(pg::Connection& conn, const std::filesystem::path& dir) {
  const auto migrations = FP_TRY(load_dir(dir), "migrate");
  SessionLock lock(conn);
  FP_CHECK(lock.acquire(), "migrate");
  FP_CHECK(conn.exec(kCreateTable), "migrate: create fleetpipe_schema_migrations");
  // Read under the lock: a concurrent run that held it before us has finished, and its rows are visible.
  auto applied_rows =
      FP_TRY(conn.query("SELECT version, checksum FROM fleetpipe_schema_migrations"), "migrate");
  std::map<int, std::string> applied;
  for (int r = 0; r < applied_rows.size(); ++r)
    applied[FP_TRY(applied_rows.get<int32_t>(r, "version"), "migrate")] =
        FP_TRY(applied_rows.get<std::string>(r, "checksum"), "migrate");

  // Verify everything before changing anything.
  for (const auto& m : migrations) {
    auto it = applied.find(m.version);
    if (it != applied.end() && it->second != m.checksum)
      return make_error(
          "migrate: {} was changed after it was applied (checksum {} in the database, {} on disk); "
          "add a new migration instead of editing an applied one",
          m.path.string(), it->second.substr(0, 12), m.checksum.substr(0, 12));
  }
  for (const auto& [version, _] : applied)
    if (std::none_of(migrations.begin(), migrations.end(),
                     [&](const auto& m) { return m.version == version; }))
      log::warn("migrate", "applied migration version {} has no file in {}", version, dir.string());

  int count = 0;
  for (const auto& m : migrations) {
    if (applied.count(m.version)) continue;
    const std::string what = fmt::format("migrate: apply {}", m.path.filename().string());
    auto tx = FP_TRY(conn.begin(), what);
    FP_CHECK(conn.exec(m.sql), what);
    FP_CHECK(
        conn.query("INSERT INTO fleetpipe_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                   m.version, m.name, m.checksum),
        what);
    FP_CHECK(tx.commit(), what);
    log::info("migrate", "applied {}", m.path.filename().string());
    ++count;
  }
  return count;
}

}  // namespace fp::migrate
