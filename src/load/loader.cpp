#include "load/loader.h"

#include <mutex>
#include <set>
#include <thread>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/pg/error.h"
#include "common/progress.h"
#include "common/retry.h"
#include "common/s3/client.h"
#include "common/shutdown.h"
#include "load/ndjson_row.h"

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "load";
constexpr int64_t kLoadLockKey = 0x666c65656c6f6164;

struct Pending {
  std::string key;
  const TableSpec* spec;
  long long size;
};

std::string column_list(const TableSpec& t) {
  std::string s;
  for (const auto& c : t.columns) s += fmt::format("{}, ", c.name);
  return s + "_source_xid";
}

// A malformed object: quarantine it. Anything else (network, server, shutdown) is retried or reported.
struct ObjectError {
  Error error;
  bool malformed;
};

class ObjectLoader {
 public:
  ObjectLoader(s3::Client& s3, pg::Connection& conn) : s3_(s3), conn_(conn) {}

  Status prepare() {
    for (const auto& t : tables()) {
      FP_CHECK(conn_.exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS stage_{0} ON COMMIT DELETE ROWS AS "
                                      "SELECT {1} FROM raw.{0} WITH NO DATA",
                                      t.name, column_list(t))),
               "staging table");
    }
    return ok_status();
  }

  // Loads one object in one transaction; returns its row count.
  //
  // Direct mode COPYs the rows straight into raw.<table> (with _object_key as a column): for an object whose
  // ids are all new, which is what an incremental export of fresh rows produces, that is the same outcome
  // as the staged upsert without the staging table and a second pass over every row. Any id already
  // present (a corrected row, a row exported again, the same id twice) makes the COPY fail with a unique
  // violation; the transaction rolls back whole and `conflict` is set, so the caller loads the object again
  // staged, where the upsert keeps the newest version by _source_xid. A concurrent loader inserting the same
  // id makes this COPY wait for it and then fail the same way.
  Result<int64_t> load(const Pending& p, std::optional<ObjectError>& failure, bool direct, bool& conflict) {
    conflict = false;
    auto head = s3_.head_object(p.key);
    if (!head) return std::move(head).error().context("head");
    const auto sha_it = head->metadata.find("sha256");
    const auto rows_it = head->metadata.find("rows");
    auto malformed = [&](Error e) -> Error {
      failure = ObjectError{e, true};
      return e;
    };
    if (sha_it == head->metadata.end()) return malformed(invalid_input("no sha256 metadata"));

    const TableSpec& t = *p.spec;
    auto tx = FP_TRY(conn_.begin(), "begin");
    auto copy = FP_TRY(
        conn_.copy_in(direct ? fmt::format("COPY raw.{} ({}, _object_key) FROM STDIN", t.name, column_list(t))
                             : fmt::format("COPY stage_{} ({}) FROM STDIN", t.name, column_list(t))),
        direct ? "copy into raw table" : "copy into staging");
    std::string key_suffix = "\t";  // direct mode: every row ends with the object key column
    copy_escape_append(key_suffix, p.key);
    key_suffix += '\n';
    NdjsonRowParser parser(t);
    GunzipReader gunzip;
    Sha256Stream sha;
    std::string text, rows_out;
    int64_t rows = 0, line_no = 0;
    std::optional<Error> sink_error;
    auto consume_lines = [&](bool final) -> Status {
      size_t pos = 0;
      // Keep simdjson's padding readable past every line: the tail of `text` is over-allocated.
      text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
      const size_t readable_end = text.capacity();
      for (;;) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
          if (!final || pos == text.size()) break;
          nl = text.size();  // last line without a newline
        }
        ++line_no;
        const std::string_view line(text.data() + pos, nl - pos);
        const size_t readable = readable_end - pos;
        if (!line.empty()) {
          auto st = parser.parse(line, readable, rows_out);
          if (!st) return std::move(st).error().context(fmt::format("line {}", line_no));
          if (direct) {
            rows_out.pop_back();  // the row's '\n'
            rows_out += key_suffix;
          }
          ++rows;
        }
        pos = nl + 1;
        if (pos >= text.size()) break;
      }
      text.erase(0, std::min(pos, text.size()));
      if (rows_out.size() >= (256u << 10)) {
        FP_CHECK(copy.write(rows_out), "copy");
        rows_out.clear();
      }
      return ok_status();
    };
    auto got = s3_.get_object(p.key, [&](const char* data, size_t len) {
      const std::string_view chunk(data, len);
      sha.update(chunk);
      auto st = gunzip.write(chunk, text);
      if (st) st = consume_lines(false);
      if (!st) {
        sink_error = std::move(st).error();
        return false;
      }
      return !shutdown::requested();
    });
    if (sink_error) {
      if (direct && pg::is_unique_violation(*sink_error)) {
        conflict = true;
        return *sink_error;
      }
      if (sink_error->kind == Error::Kind::kInvalidInput) return malformed(*sink_error);
      return *sink_error;
    }
    if (!got) return std::move(got).error().context("download");
    if (shutdown::requested()) return transient_error("interrupted by shutdown");
    if (auto st = gunzip.finish(); !st) return malformed(st.error());
    if (auto st = consume_lines(true); !st) {
      if (st.error().kind == Error::Kind::kInvalidInput) return malformed(st.error());
      return st.error();
    }
    const std::string digest = sha.hex_digest();
    if (digest != sha_it->second)
      return malformed(
          invalid_input("checksum mismatch: sha256 {} but metadata says {}", digest, sha_it->second));
    if (rows_it != head->metadata.end() && rows_it->second != std::to_string(rows))
      return malformed(
          invalid_input("row count mismatch: {} rows but metadata says {}", rows, rows_it->second));
    auto copied = [&]() -> Result<int64_t> {
      FP_CHECK(copy.write(rows_out), "copy");
      return copy.finish();
    }();
    if (!copied) {
      if (direct && pg::is_unique_violation(copied.error())) {
        conflict = true;
        return std::move(copied).error();
      }
      if (copied.error().kind == Error::Kind::kInvalidInput) return malformed(copied.error());
      return std::move(copied).error();
    }
    FP_CHECK(conn_.query("INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count) "
                         "VALUES ($1, $2, $3, $4)",
                         p.key, head->etag, std::string(t.name), rows),
             "load manifest");
    if (direct) {
      FP_CHECK(tx.commit(), "commit");
      return rows;
    }
    std::string set;
    for (const auto& c : t.columns)
      if (c.name != "id") set += fmt::format("{0} = EXCLUDED.{0}, ", c.name);
    auto upsert = conn_.query(
        fmt::format("INSERT INTO raw.{0} AS r ({1}, _object_key) SELECT {1}, $1 FROM stage_{0} "
                    "ORDER BY id ON CONFLICT (id) DO UPDATE SET {2}_source_xid = EXCLUDED._source_xid, "
                    "_object_key = EXCLUDED._object_key, _loaded_at = now() "
                    "WHERE r._source_xid <= EXCLUDED._source_xid",
                    t.name, column_list(t), set),
        p.key);
    if (!upsert) {
      // 21000: the same id twice in one object ("cannot affect row a second time").
      const bool dup = upsert.error().message.find("21000") != std::string::npos;
      if (upsert.error().kind == Error::Kind::kInvalidInput || dup) return malformed(upsert.error());
      return std::move(upsert).error();
    }
    FP_CHECK(tx.commit(), "commit");
    return rows;
  }

 private:
  s3::Client& s3_;
  pg::Connection& conn_;
};

Status quarantine(s3::Client& s3, const LoadOptions& opts, const std::string& key, const Error& why) {
  const std::string dest = quarantine_key(opts.prefix, key);
  FP_TRY(s3.copy_object(key, dest), "copy to quarantine");
  FP_TRY(s3.put_object(dest + ".reason.txt", why.message + "\n", "text/plain"), "write reason");
  FP_CHECK(s3.delete_object(key), "delete original");
  log::emit(log::Level::kError, kLog, "object quarantined",
            {{"key", key}, {"quarantine_key", dest}, {"reason", why.message}});
  return ok_status();
}

}  // namespace

Result<LoadReport> run_load(const Config& cfg, const LoadOptions& opts) {
  s3::Client s3(cfg.s3);
  pg::ConnectOptions co;
  co.statement_timeout = std::chrono::hours(1);
  co.settings = {{"TimeZone", "UTC"}, {"DateStyle", "ISO, YMD"}, {"application_name", "fleetpipe load"}};
  auto conn = FP_TRY(pg::Connection::connect(cfg.warehouse, co), "connect warehouse");
  auto locked = FP_TRY(conn.query("SELECT pg_try_advisory_lock($1)", kLoadLockKey), "advisory lock");
  if (FP_TRY(locked.get<bool>(0, 0), "advisory lock") == false)
    return transient_error("another load is running against this warehouse");

  // Pending = data objects in the bucket that the load manifest does not know.
  std::vector<Pending> pending;
  LoadReport report;
  auto loaded_rows = FP_TRY(
      conn.query("SELECT object_key FROM raw.load_manifest WHERE starts_with(object_key, $1)", opts.prefix),
      "read load manifest");
  std::set<std::string, std::less<>> loaded;
  for (int r = 0; r < loaded_rows.size(); ++r)
    loaded.insert(FP_TRY(loaded_rows.get<std::string>(r, 0), "object_key"));
  long long total_bytes = 0;
  for (const auto& t : tables()) {
    auto objs = FP_TRY(s3.list_all(fmt::format("{}{}/", opts.prefix, t.name)), "list objects");
    for (auto& o : objs) {
      if (!parse_data_key(opts.prefix, o.key)) continue;
      if (loaded.contains(o.key)) {
        ++report.already_loaded;
        continue;
      }
      total_bytes += o.size;
      pending.push_back({std::move(o.key), &t, o.size});
    }
  }
  log::emit(log::Level::kInfo, kLog, "objects to load",
            {{"pending", pending.size()}, {"already_loaded", report.already_loaded}, {"bytes", total_bytes}});

  // Objects load in parallel, each on its own connection and in its own transaction (rows and manifest row
  // together, as with one connection); this connection keeps the advisory lock for the whole run. Objects
  // of one table may touch the same ids (a corrected row exported again): the upsert takes its row locks in
  // id order, and the PK makes a direct COPY wait for the other transaction, so the newest _source_xid wins
  // whichever commits first; a deadlock that still happened would be retried (40P01 is transient).
  Progress progress(std::string(kLog), "load", total_bytes, "bytes");
  std::mutex mu;  // guards next, stop, report, first_error and progress
  size_t next = 0;
  bool stop = false;  // a worker cannot go on (shutdown, no connection, quarantine failed): all stop
  std::optional<Error> first_error;
  auto worker = [&]() {
    auto fail = [&](Error e) {
      std::lock_guard lock(mu);
      stop = true;
      if (!first_error) first_error = std::move(e);
    };
    s3::Client s3w(cfg.s3);
    auto wc = pg::Connection::connect(cfg.warehouse, co);
    if (!wc) return fail(std::move(wc).error().context("connect warehouse (load worker)"));
    pg::Connection wconn = std::move(*wc);
    ObjectLoader loader(s3w, wconn);
    if (auto st = loader.prepare(); !st) return fail(std::move(st).error().context("prepare"));
    // Tables where a direct COPY met existing ids in this run: their next objects go staged right away.
    std::set<std::string_view> staged;
    for (;;) {
      const Pending* pp = nullptr;
      {
        std::lock_guard lock(mu);
        if (stop || next == pending.size()) return;
        pp = &pending[next++];
      }
      const Pending& p = *pp;
      if (shutdown::requested()) return fail(transient_error("interrupted by shutdown"));
      std::optional<ObjectError> failure;
      auto rows = retry<int64_t>(fmt::format("load {}", p.key), Backoff{}, [&]() -> Result<int64_t> {
        failure.reset();
        bool conflict = false;
        auto r = loader.load(p, failure, !staged.contains(p.spec->name), conflict);
        if (!r && conflict) {
          log::info(kLog, "{}: ids already in raw.{}; loading it (and the table's next objects) staged",
                    p.key, p.spec->name);
          staged.insert(p.spec->name);
          r = loader.load(p, failure, false, conflict);
        }
        if (!r && !failure && wconn.broken()) {
          // The session died mid-object: reconnect before the retry.
          auto c = pg::Connection::connect(cfg.warehouse, co);
          if (!c) return std::move(c).error();
          wconn = std::move(*c);
          if (auto st = loader.prepare(); !st) return std::move(st).error();
          return transient_error("{}", r.error().message);
        }
        if (!r && failure) return Error{r.error().message, Error::Kind::kPermanent};
        return r;
      });
      if (!rows && failure && failure->malformed) {
        if (auto st = quarantine(s3w, opts, p.key, failure->error); !st)
          return fail(std::move(st).error().context(p.key));
      } else if (!rows) {
        log::error(kLog, "{}: {}", p.key, rows.error().message);
      }
      std::lock_guard lock(mu);
      progress.add(p.size);
      if (rows) {
        ++report.objects_loaded;
        report.rows += *rows;
        log::emit(log::Level::kDebug, kLog, "object loaded", {{"key", p.key}, {"rows", *rows}});
      } else if (failure && failure->malformed) {
        ++report.quarantined;
      } else if (!first_error) {
        first_error = rows.error().context(p.key);
      }
    }
  };
  std::vector<std::thread> workers;
  const int n = std::max(1, std::min<int>(opts.parallel, static_cast<int>(pending.size())));
  for (int i = 0; i < n; ++i) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  progress.finish();
  log::emit(log::Level::kInfo, kLog, "load finished",
            {{"objects", report.objects_loaded},
             {"rows", report.rows},
             {"quarantined", report.quarantined},
             {"already_loaded", report.already_loaded}});
  if (first_error) return *first_error;
  return report;
}

}  // namespace fp::batch
