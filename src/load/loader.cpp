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

// Streams one object's bytes into its COPY: SHA-256 over the bytes as stored, gunzip, one COPY row per
// NDJSON line (validated by NdjsonRowParser), the rows sent to the COPY in pieces of 256 KiB. In direct
// mode every row ends with the object key column.
class ObjectRowStream {
 public:
  ObjectRowStream(const TableSpec& t, pg::CopyIn& copy, std::string_view object_key, bool direct)
      : parser_(t), copy_(copy), direct_(direct) {
    copy_escape_append(key_suffix_, object_key);
    key_suffix_ += '\n';
  }

  // A downloaded chunk: its whole lines are parsed and queued for the COPY.
  Status write(std::string_view chunk) {
    sha_.update(chunk);
    auto st = gunzip_.write(chunk, text_);
    if (st) st = consume_lines(false);
    return st;
  }
  // After the download: the gzip stream must have ended, and the last line may lack its newline.
  Status finish_gunzip() const { return gunzip_.finish(); }
  Status consume_rest() { return consume_lines(true); }
  // Sends the rows still queued and ends the COPY.
  Result<int64_t> end_copy() {
    FP_CHECK(copy_.write(rows_out_), "copy");
    return copy_.finish();
  }
  std::string sha256() { return sha_.hex_digest(); }
  int64_t rows() const { return rows_; }

 private:
  Status consume_lines(bool final) {
    size_t pos = 0;
    // Keep simdjson's padding readable past every line: the tail of `text` is over-allocated.
    text_.reserve(text_.size() + simdjson::SIMDJSON_PADDING);
    const size_t readable_end = text_.capacity();
    for (;;) {
      size_t nl = text_.find('\n', pos);
      if (nl == std::string::npos) {
        if (!final || pos == text_.size()) break;
        nl = text_.size();  // last line without a newline
      }
      ++line_no_;
      const std::string_view line(text_.data() + pos, nl - pos);
      const size_t readable = readable_end - pos;
      if (!line.empty()) {
        auto st = parser_.parse(line, readable, rows_out_);
        if (!st) return std::move(st).error().context(fmt::format("line {}", line_no_));
        if (direct_) {
          rows_out_.pop_back();  // the row's '\n'
          rows_out_ += key_suffix_;
        }
        ++rows_;
      }
      pos = nl + 1;
      if (pos >= text_.size()) break;
    }
    text_.erase(0, std::min(pos, text_.size()));
    if (rows_out_.size() >= (256u << 10)) {
      FP_CHECK(copy_.write(rows_out_), "copy");
      rows_out_.clear();
    }
    return ok_status();
  }

  NdjsonRowParser parser_;
  pg::CopyIn& copy_;
  const bool direct_;
  std::string key_suffix_ = "\t";
  GunzipReader gunzip_;
  Sha256Stream sha_;
  std::string text_, rows_out_;
  int64_t rows_ = 0, line_no_ = 0;
};

// The object's bytes against what the exporter wrote into its metadata (which has a sha256: load() checked
// that before downloading).
Status check_metadata(const s3::Metadata& metadata, const std::string& sha256, int64_t rows) {
  const auto sha_it = metadata.find("sha256");
  const auto rows_it = metadata.find("rows");
  if (sha256 != sha_it->second)
    return invalid_input("checksum mismatch: sha256 {} but metadata says {}", sha256, sha_it->second);
  if (rows_it != metadata.end() && rows_it->second != std::to_string(rows))
    return invalid_input("row count mismatch: {} rows but metadata says {}", rows, rows_it->second);
  return ok_status();
}

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
    auto malformed = [&](Error e) -> Error {
      failure = ObjectError{e, true};
      return e;
    };
    // Invalid input is the object's fault; anything else (network, server) may pass on a retry.
    auto rejected = [&](Error e) -> Error {
      if (e.kind == Error::Kind::kInvalidInput) return malformed(std::move(e));
      return e;
    };
    auto copy_failed = [&](Error e) -> Error {
      if (direct && pg::is_unique_violation(e)) {
        conflict = true;
        return e;
      }
      return rejected(std::move(e));
    };
    auto head = s3_.head_object(p.key);
    if (!head) return std::move(head).error().context("head");
    if (!head->metadata.contains("sha256")) return malformed(invalid_input("no sha256 metadata"));

    const TableSpec& t = *p.spec;
    auto tx = FP_TRY(conn_.begin(), "begin");
    auto copy =
        FP_TRY(conn_.copy_in(copy_sql(t, direct)), direct ? "copy into raw table" : "copy into staging");
    ObjectRowStream stream(t, copy, p.key, direct);
    std::optional<Error> sink_error;
    auto got = s3_.get_object(p.key, [&](const char* data, size_t len) {
      if (auto st = stream.write(std::string_view(data, len)); !st) {
        sink_error = std::move(st).error();
        return false;
      }
      return !shutdown::requested();
    });
    if (sink_error) return copy_failed(*sink_error);
    if (!got) return std::move(got).error().context("download");
    if (shutdown::requested()) return transient_error("interrupted by shutdown");
    if (auto st = stream.finish_gunzip(); !st) return malformed(st.error());
    if (auto st = stream.consume_rest(); !st) return rejected(st.error());
    if (auto st = check_metadata(head->metadata, stream.sha256(), stream.rows()); !st)
      return malformed(st.error());
    if (auto copied = stream.end_copy(); !copied) return copy_failed(std::move(copied).error());
    FP_CHECK(conn_.query("INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count) "
                         "VALUES ($1, $2, $3, $4)",
                         p.key, head->etag, std::string(t.name), stream.rows()),
             "load manifest");
    if (!direct) {
      if (auto upsert = upsert_staged(t, p.key); !upsert) {
        // The same id twice in one object ("cannot affect row a second time").
        const bool dup = pg::is_cardinality_violation(upsert.error());
        if (upsert.error().kind == Error::Kind::kInvalidInput || dup) return malformed(upsert.error());
        return std::move(upsert).error();
      }
    }
    FP_CHECK(tx.commit(), "commit");
    return stream.rows();
  }

 private:
  static std::string copy_sql(const TableSpec& t, bool direct) {
    return direct ? fmt::format("COPY raw.{} ({}, _object_key) FROM STDIN", t.name, column_list(t))
                  : fmt::format("COPY stage_{} ({}) FROM STDIN", t.name, column_list(t));
  }

  // Staged mode's second pass: the staging table into raw.<table>, keeping the newest version of each id by
  // _source_xid (in id order, so concurrent loaders take their row locks in one order).
  Result<pg::Rows> upsert_staged(const TableSpec& t, const std::string& key) {
    std::string set;
    for (const auto& c : t.columns)
      if (c.name != "id") set += fmt::format("{0} = EXCLUDED.{0}, ", c.name);
    const std::string sql = fmt::format(
        "INSERT INTO raw.{0} AS r ({1}, _object_key) SELECT {1}, $1 FROM stage_{0} "
        "ORDER BY id ON CONFLICT (id) DO UPDATE SET {2}_source_xid = EXCLUDED._source_xid, "
        "_object_key = EXCLUDED._object_key, _loaded_at = now() "
        "WHERE r._source_xid <= EXCLUDED._source_xid",
        t.name, column_list(t), set);
    return conn_.query(sql, key);
  }

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

pg::ConnectOptions load_connect_options() {
  pg::ConnectOptions co;
  co.statement_timeout = std::chrono::hours(1);
  co.settings = {{"TimeZone", "UTC"}, {"DateStyle", "ISO, YMD"}, {"application_name", "fleetpipe load"}};
  return co;
}

// The run's own session, which holds the advisory lock that keeps a second load off this warehouse.
Result<pg::Connection> connect_and_lock(const Config& cfg, const pg::ConnectOptions& co) {
  auto conn = FP_TRY(pg::Connection::connect(cfg.warehouse, co), "connect warehouse");
  auto locked = FP_TRY(conn.query("SELECT pg_try_advisory_lock($1)", kLoadLockKey), "advisory lock");
  if (FP_TRY(locked.get<bool>(0, 0), "advisory lock") == false)
    return transient_error("another load is running against this warehouse");
  return conn;
}

// Pending = data objects in the bucket that the load manifest does not know (counted as already_loaded).
Result<std::vector<Pending>> find_pending(s3::Client& s3, pg::Connection& conn, const LoadOptions& opts,
                                          LoadReport& report, long long& total_bytes) {
  std::vector<Pending> pending;
  auto loaded_rows = FP_TRY(
      conn.query("SELECT object_key FROM raw.load_manifest WHERE starts_with(object_key, $1)", opts.prefix),
      "read load manifest");
  std::set<std::string, std::less<>> loaded;
  for (int r = 0; r < loaded_rows.size(); ++r)
    loaded.insert(FP_TRY(loaded_rows.get<std::string>(r, 0), "object_key"));
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
  return pending;
}

// What the workers share: the next pending object to take, whether the run must stop, and the counts.
class LoadRun {
 public:
  LoadRun(const std::vector<Pending>& pending, Progress& progress, LoadReport& report)
      : pending_(pending), progress_(progress), report_(report) {}

  // The next object, or nullptr when every object is taken or the run stopped.
  const Pending* take() {
    std::lock_guard lock(mu_);
    if (stop_ || next_ == pending_.size()) return nullptr;
    return &pending_[next_++];
  }

  // A worker cannot go on (shutdown, no connection, quarantine failed): all stop.
  void fail(Error e) {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (!first_error_) first_error_ = std::move(e);
  }

  void record(const Pending& p, const Result<int64_t>& rows, const std::optional<ObjectError>& failure) {
    std::lock_guard lock(mu_);
    progress_.add(p.size);
    if (rows) {
      ++report_.objects_loaded;
      report_.rows += *rows;
      log::emit(log::Level::kDebug, kLog, "object loaded", {{"key", p.key}, {"rows", *rows}});
    } else if (failure && failure->malformed) {
      ++report_.quarantined;
    } else if (!first_error_) {
      first_error_ = rows.error().context(p.key);
    }
  }

  // Once the workers have been joined.
  const std::optional<Error>& first_error() const { return first_error_; }

 private:
  std::mutex mu_;  // guards next_, stop_, report_, first_error_ and progress_
  const std::vector<Pending>& pending_;
  Progress& progress_;
  LoadReport& report_;
  size_t next_ = 0;
  bool stop_ = false;
  std::optional<Error> first_error_;
};

// Direct first, unless a direct COPY into this table already met existing ids in this run; on a conflict
// the object, and the table's next objects, load staged.
Result<int64_t> load_direct_or_staged(ObjectLoader& loader, const Pending& p,
                                      std::optional<ObjectError>& failure,
                                      std::set<std::string_view>& staged) {
  bool conflict = false;
  auto r = loader.load(p, failure, !staged.contains(p.spec->name), conflict);
  if (!r && conflict) {
    log::info(kLog, "{}: ids already in raw.{}; loading it (and the table's next objects) staged", p.key,
              p.spec->name);
    staged.insert(p.spec->name);
    r = loader.load(p, failure, false, conflict);
  }
  return r;
}

// The session died mid-object: a new one, with its staging tables, before the retry.
Status reconnect(pg::Connection& conn, ObjectLoader& loader, const Config& cfg,
                 const pg::ConnectOptions& co) {
  auto c = pg::Connection::connect(cfg.warehouse, co);
  if (!c) return std::move(c).error();
  conn = std::move(*c);
  return loader.prepare();
}

// One worker: its own S3 client and warehouse session, loading objects until none are left. A malformed
// object is quarantined; another failure is retried, then logged and reported, and the others still load.
void load_worker(const Config& cfg, const pg::ConnectOptions& co, const LoadOptions& opts, LoadRun& run) {
  s3::Client s3w(cfg.s3);
  auto wc = pg::Connection::connect(cfg.warehouse, co);
  if (!wc) return run.fail(std::move(wc).error().context("connect warehouse (load worker)"));
  pg::Connection wconn = std::move(*wc);
  ObjectLoader loader(s3w, wconn);
  if (auto st = loader.prepare(); !st) return run.fail(std::move(st).error().context("prepare"));
  // Tables where a direct COPY met existing ids in this run: their next objects go staged right away.
  std::set<std::string_view> staged;
  while (const Pending* pp = run.take()) {
    const Pending& p = *pp;
    if (shutdown::requested()) return run.fail(transient_error("interrupted by shutdown"));
    std::optional<ObjectError> failure;
    auto rows = retry<int64_t>(fmt::format("load {}", p.key), Backoff{}, [&]() -> Result<int64_t> {
      failure.reset();
      auto r = load_direct_or_staged(loader, p, failure, staged);
      if (!r && !failure && wconn.broken()) {
        if (auto st = reconnect(wconn, loader, cfg, co); !st) return std::move(st).error();
        return std::move(r).error().as(Error::Kind::kTransient);
      }
      if (!r && failure) return std::move(r).error().as(Error::Kind::kPermanent);
      return r;
    });
    if (!rows && failure && failure->malformed) {
      if (auto st = quarantine(s3w, opts, p.key, failure->error); !st)
        return run.fail(std::move(st).error().context(p.key));
    } else if (!rows) {
      log::error(kLog, "{}: {}", p.key, rows.error().message);
    }
    run.record(p, rows, failure);
  }
}

}  // namespace

Result<LoadReport> run_load(const Config& cfg, const LoadOptions& opts) {
  s3::Client s3(cfg.s3);
  const pg::ConnectOptions co = load_connect_options();
  auto conn = connect_and_lock(cfg, co);
  if (!conn) return std::move(conn).error();
  LoadReport report;
  long long total_bytes = 0;
  auto pending = find_pending(s3, *conn, opts, report, total_bytes);
  if (!pending) return std::move(pending).error();
  log::emit(
      log::Level::kInfo, kLog, "objects to load",
      {{"pending", pending->size()}, {"already_loaded", report.already_loaded}, {"bytes", total_bytes}});

  // Objects load in parallel, each on its own connection and in its own transaction (rows and manifest row
  // together, as with one connection); this connection keeps the advisory lock for the whole run. Objects
  // of one table may touch the same ids (a corrected row exported again): the upsert takes its row locks in
  // id order, and the PK makes a direct COPY wait for the other transaction, so the newest _source_xid wins
  // whichever commits first; a deadlock that still happened would be retried (40P01 is transient).
  Progress progress(std::string(kLog), "load", total_bytes, "bytes");
  LoadRun run(*pending, progress, report);
  std::vector<std::thread> workers;
  const int n = std::max(1, std::min<int>(opts.parallel, static_cast<int>(pending->size())));
  for (int i = 0; i < n; ++i) workers.emplace_back([&] { load_worker(cfg, co, opts, run); });
  for (auto& w : workers) w.join();
  progress.finish();
  log::emit(log::Level::kInfo, kLog, "load finished",
            {{"objects", report.objects_loaded},
             {"rows", report.rows},
             {"quarantined", report.quarantined},
             {"already_loaded", report.already_loaded}});
  if (run.first_error()) return *run.first_error();
  return report;
}

}  // namespace fp::batch
