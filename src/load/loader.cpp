#include "load/loader.h"

#include <sys/resource.h>

#include <mutex>
#include <set>
#include <thread>

#include "common/batch/codec.h"
#include "common/batch/layout.h"
#include "common/batch/session.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/pg/error.h"
#include "common/progress.h"
#include "common/retry.h"
#include "common/s3/client.h"
#include "common/shutdown.h"
#include "load/object_stream.h"
#include "load/plan.h"
#include "load/trips_apply.h"

namespace fp::batch {
namespace {

constexpr std::string_view kLog = "load";
constexpr int64_t kLoadLockKey = 0x666c65656c6f6164;

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

// The object's bytes against its committed manifest entry.
Status check_against_manifest(const ObjectEntry& e, const std::string& sha256, int64_t rows) {
  if (sha256 != e.sha256)
    return invalid_input("checksum mismatch: sha256 {} but the committed manifest lists {}", sha256,
                         e.sha256);
  if (rows != e.rows)
    return invalid_input("row count mismatch: {} rows but the committed manifest lists {}", rows, e.rows);
  return ok_status();
}

class ObjectLoader {
 public:
  ObjectLoader(s3::Client& s3, pg::Connection& conn, const LoadOptions& opts)
      : s3_(s3), conn_(conn), opts_(opts) {}

  Status prepare() {
    for (const auto& t : tables()) {
      FP_CHECK(
          conn_.exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS stage_{0} ON COMMIT DELETE ROWS AS "
                                 "SELECT {1} FROM raw.{0} WITH NO DATA; "
                                 "CREATE TEMP TABLE IF NOT EXISTS stage_{0}_deletes (id bigint, day date, "
                                 "_source_xid bigint) ON COMMIT DELETE ROWS",
                                 t.name, column_list(t))),
          "staging table");
    }
    return trips::prepare(conn_);
  }

  // Loads one object in one transaction; returns its row count.
  //
  // Direct mode COPYs the rows straight into raw.<table> (with _object_key and _source_epoch as columns):
  // for an object whose ids are all new, which is what an incremental export of fresh rows produces, that
  // is the same outcome as the staged upsert without the staging table and a second pass over every row.
  // Any id already present (a corrected row, a row exported again, a tombstone that arrived first, the same
  // id twice) makes the COPY fail with a unique violation; the transaction rolls back whole and `conflict`
  // is set, so the caller loads the object again staged, where the upsert keeps the newest version. A
  // concurrent loader inserting the same id makes this COPY wait for it and then fail the same way.
  // Tombstone objects always go staged. raw.trips is partitioned by day (load/trips_apply.h): its direct
  // COPY goes into the partition of the object's day, and its id map plays the primary key's part.
  Result<int64_t> load(const PendingObject& p, std::optional<ObjectError>& failure, bool direct,
                       bool& conflict) {
    conflict = false;
    const ObjectEntry& e = p.entry;
    const bool deletes = e.kind == ObjectKind::kDeletes;
    const bool trips = p.table->name == "trips";
    direct = direct && !deletes && !(trips && e.dt.empty());
    auto malformed = [&](Error err) -> Error {
      failure = ObjectError{err, true};
      return err;
    };
    // Invalid input is the object's fault; anything else (network, server) may pass on a retry.
    auto rejected = [&](Error err) -> Error {
      if (err.kind == Error::Kind::kInvalidInput) return malformed(std::move(err));
      return err;
    };
    auto copy_failed = [&](Error err) -> Error {
      // For trips, a row of another day than the partition's breaks its partition constraint: staged too.
      if (direct && (pg::is_unique_violation(err) || (trips && pg::is_check_violation(err)))) {
        conflict = true;
        return err;
      }
      return rejected(std::move(err));
    };
    // The size first: an object that is not the manifest's is refused before a byte of it is read.
    auto head = s3_.head_object(e.key);
    if (!head) return std::move(head).error().context("head");
    if (head->size != e.bytes)
      return malformed(
          invalid_input("size {} bytes but the committed manifest lists {}", head->size, e.bytes));

    const TableSpec& t = deletes ? deletes_spec(p.table->name) : *p.table;
    // The day's partition, made (if missing) before the transaction, which would otherwise hold the
    // partition lock to its end. Staged rows need it too: else they wait in trips_default to be homed.
    std::string partition;
    if (trips && !deletes && !e.dt.empty()) {
      auto part = trips::partition_for(conn_, e.dt);
      if (!part && part.error().kind != Error::Kind::kInvalidInput)
        return std::move(part).error().context("partition");
      direct = direct && part.ok();  // a dt that is no date: the rows' own times decide, staged
      if (part) partition = std::move(*part);
    }
    auto tx = FP_TRY(conn_.begin(), "begin");
    const std::string copy_into = FP_TRY(copy_sql(t, e.kind, direct, partition), "copy");
    auto copy = FP_TRY(conn_.copy_in(copy_into), direct ? "copy into raw table" : "copy into staging");
    ObjectRowStream stream(t, copy, direct ? direct_suffix(p) : std::string(), limits_for(p.entry),
                           p.range.xid_from, p.range.xid_to);
    std::optional<Error> sink_error;
    auto got = s3_.get_object(e.key, [&](const char* data, size_t len) {
      if (auto st = stream.write(std::string_view(data, len)); !st) {
        sink_error = std::move(st).error();
        return false;
      }
      return !shutdown::requested();
    });
    if (sink_error) return copy_failed(*sink_error);
    if (!got) return std::move(got).error().context("download");
    if (shutdown::requested()) return transient_error("interrupted by shutdown");
    const std::string sha256 = stream.sha256();
    if (sha256 != e.sha256)  // other bytes than the manifest's: that is the reason, whatever else is wrong
      return malformed(check_against_manifest(e, sha256, stream.rows()).error());
    if (stream.content_error()) return malformed(*stream.content_error());
    if (auto st = stream.finish_gunzip(); !st) return malformed(st.error());
    if (auto st = stream.consume_rest(); !st) return copy_failed(st.error());
    if (auto st = check_against_manifest(e, sha256, stream.rows()); !st) return malformed(st.error());
    if (auto copied = stream.end_copy(); !copied) return copy_failed(std::move(copied).error());
    if (direct && trips)
      if (auto st = trips::register_copied(conn_, partition); !st) return copy_failed(std::move(st).error());
    FP_CHECK(conn_.query(
                 "INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count, sha256, run, "
                 "epoch, kind, compaction) VALUES ($1, $2, $3, $4, $5, NULLIF($6, 0), $7, $8, NULLIF($9, 0))",
                 e.key, head->etag, e.table, stream.rows(), e.sha256, p.range.run, p.range.epoch,
                 std::string(kind_name(e.kind)), p.compaction),
             "load manifest");
    if (!direct) {
      // A compacted object holds every version its replaced objects held: an id may come more than once.
      const bool versions = p.compaction > 0;
      auto applied = apply_staged(*p.table, deletes, e.key, p.range.epoch, versions);
      if (!applied) {
        // The same id twice in one object ("cannot affect row a second time").
        const bool dup = pg::is_cardinality_violation(applied.error());
        if (applied.error().kind == Error::Kind::kInvalidInput || dup) return malformed(applied.error());
        return std::move(applied).error();
      }
    }
    FP_CHECK(tx.commit(), "commit");
    if (trips && !direct) home_strays();
    return stream.rows();
  }

 private:
  // Direct mode's columns after the row's own: the object it came from and its epoch.
  static std::string direct_suffix(const PendingObject& p) {
    std::string suffix = "\t";
    copy_escape_append(suffix, p.entry.key);
    return suffix + fmt::format("\t{}", p.range.epoch);
  }

  // No line over max_line_bytes, no more inflated bytes than the configured cap or rows x (line + '\n').
  StreamLimits limits_for(const ObjectEntry& e) const {
    const uint64_t by_rows = static_cast<uint64_t>(e.rows) * (opts_.max_line_bytes + 1);
    return {e.rows, opts_.max_line_bytes, std::min<uint64_t>(opts_.max_object_bytes, by_rows)};
  }

  // `partition`: trips' direct COPY goes into the day's partition (quoted here), not through the parent.
  Result<std::string> copy_sql(const TableSpec& t, ObjectKind kind, bool direct,
                               const std::string& partition) {
    if (kind == ObjectKind::kDeletes) return fmt::format("COPY stage_{}_deletes FROM STDIN", t.name);
    if (!direct) return fmt::format("COPY stage_{} ({}) FROM STDIN", t.name, column_list(t));
    const std::string target =
        partition.empty() ? std::string(t.name) : FP_TRY(conn_.quote_identifier(partition), "partition");
    return fmt::format("COPY raw.{} ({}, _object_key, _source_epoch) FROM STDIN", target, column_list(t));
  }

  Status apply_staged(const TableSpec& t, bool deletes, const std::string& key, int epoch, bool versions) {
    if (t.name == "trips")
      return deletes ? trips::apply_deletes(conn_, key, epoch, versions)
                     : trips::upsert_staged(conn_, t, key, epoch, versions);
    auto r = deletes ? apply_deletes(t, key, epoch, versions) : upsert_staged(t, key, epoch, versions);
    if (!r) return std::move(r).error();
    return ok_status();
  }

  // A staged trips object may have moved rows to days without a partition (trips_default holds them): they
  // get theirs now. The object is committed either way; rows left waiting are homed by the next call.
  void home_strays() {
    auto homed = trips::home_strays(conn_);
    if (!homed)
      log::warn(kLog, "rows of raw.trips_default not moved to their partitions yet: {}",
                homed.error().message);
  }

  // Staged mode's second pass: the staging table into raw.<table>, keeping the newest version of each id by
  // (epoch, _source_xid); a row version outranks a tombstone of the same transaction (deleted and inserted
  // again). In id order, so concurrent loaders take their row locks in one order.
  // `versions`: the object may hold several versions of an id (a compacted object): the newest of each
  // goes in. Otherwise an id twice is the object's fault (cardinality violation).
  Result<pg::Rows> upsert_staged(const TableSpec& t, const std::string& key, int epoch, bool versions) {
    std::string set;
    for (const auto& c : t.columns)
      if (c.name != "id") set += fmt::format("{0} = EXCLUDED.{0}, ", c.name);
    const std::string sql = fmt::format(
        "INSERT INTO raw.{0} AS r ({1}, _object_key, _source_epoch) SELECT {3}{1}, $1, $2 FROM stage_{0} "
        "ORDER BY id{4} ON CONFLICT (id) DO UPDATE SET {2}_source_xid = EXCLUDED._source_xid, "
        "_source_epoch = EXCLUDED._source_epoch, _deleted_xid = NULL, _deleted_at = NULL, "
        "_object_key = EXCLUDED._object_key, _loaded_at = now(), _load_xid = pg_current_xact_id() "
        "WHERE (r._source_epoch, r._source_xid) <= (EXCLUDED._source_epoch, EXCLUDED._source_xid)",
        t.name, column_list(t), set, versions ? "DISTINCT ON (id) " : "",
        versions ? ", _source_xid DESC" : "");
    return conn_.query(sql, key, epoch);
  }

  // A tombstone object: each id is deleted as of its transaction, unless the warehouse already holds a
  // version at least as new. An id the warehouse has not seen gets a row of NULLs carrying the tombstone.
  Result<pg::Rows> apply_deletes(const TableSpec& t, const std::string& key, int epoch, bool versions) {
    const std::string sql = fmt::format(
        "INSERT INTO raw.{0} AS r (id, _source_xid, _source_epoch, _deleted_xid, _deleted_at, _object_key) "
        "SELECT {1}id, _source_xid, $2, _source_xid, now(), $1 FROM stage_{0}_deletes ORDER BY id{2} "
        "ON CONFLICT (id) DO UPDATE SET _source_xid = EXCLUDED._source_xid, "
        "_source_epoch = EXCLUDED._source_epoch, _deleted_xid = EXCLUDED._deleted_xid, "
        "_deleted_at = EXCLUDED._deleted_at, _object_key = EXCLUDED._object_key, _loaded_at = now(), "
        "_load_xid = pg_current_xact_id() "
        "WHERE (r._source_epoch, r._source_xid) < (EXCLUDED._source_epoch, EXCLUDED._source_xid)",
        t.name, versions ? "DISTINCT ON (id) " : "", versions ? ", _source_xid DESC" : "");
    return conn_.query(sql, key, epoch);
  }

  s3::Client& s3_;
  pg::Connection& conn_;
  const LoadOptions& opts_;
};

// Moves a refused object to quarantine/ with its reason beside it, and records it in the warehouse so the
// run it belongs to can finish without it.
Status quarantine(s3::Client& s3, pg::Connection& dw, const LoadOptions& opts, const PendingObject& p,
                  const Error& why) {
  const std::string& key = p.entry.key;
  const std::string dest = quarantine_key(opts.prefix, key);
  FP_TRY(s3.copy_object(key, dest), "copy to quarantine");
  FP_TRY(s3.put_object(dest + ".reason.txt", why.message + "\n", "text/plain"), "write reason");
  FP_TRY(dw.query("INSERT INTO raw.load_quarantine (object_key, run, reason, compaction) VALUES ($1, $2, $3, "
                  "NULLIF($4, 0)) ON CONFLICT (object_key) DO UPDATE SET reason = EXCLUDED.reason, "
                  "quarantined_at = now()",
                  key, p.range.run, why.message, p.compaction),
         "record quarantine");
  FP_CHECK(s3.delete_object(key), "delete original");
  log::emit(log::Level::kError, kLog, "object quarantined",
            {{"key", key}, {"quarantine_key", dest}, {"reason", why.message}});
  return ok_status();
}

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

pg::ConnectOptions load_connect_options() {
  pg::ConnectOptions co;
  co.statement_timeout = std::chrono::hours(1);
  co.settings = {{"TimeZone", "UTC"}, {"DateStyle", "ISO, YMD"}, {"application_name", "fleetpipe load"}};
  return co;
}

// The run's own session, which holds the advisory lock that keeps a second load off this warehouse.
Result<pg::Connection> connect_and_lock(const Config& cfg, const pg::ConnectOptions& co) {
  auto conn =
      FP_TRY(pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co), "connect warehouse");
  FP_CHECK(take_run_lock(conn, kLoadLockKey, std::chrono::seconds(10), "load"), "load");
  return conn;
}

// What the workers share: the next pending object to take, whether the run must stop, and the counts.
class LoadRun {
 public:
  LoadRun(const std::vector<PendingObject>& pending, Progress& progress, LoadReport& report)
      : pending_(pending), progress_(progress), report_(report) {}

  // The next object, or nullptr when every object is taken or the run stopped.
  const PendingObject* take() {
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

  void record(const PendingObject& p, const Result<int64_t>& rows,
              const std::optional<ObjectError>& failure) {
    std::lock_guard lock(mu_);
    progress_.add(p.entry.bytes);
    if (rows) {
      ++report_.objects_loaded;
      (p.entry.kind == ObjectKind::kDeletes ? report_.deletes : report_.rows) += *rows;
      log::emit(log::Level::kDebug, kLog, "object loaded", {{"key", p.entry.key}, {"rows", *rows}});
    } else if (failure && failure->malformed) {
      ++report_.quarantined;
    } else if (!first_error_) {
      first_error_ = rows.error().context(p.entry.key);
    }
  }

  // Once the workers have been joined.
  const std::optional<Error>& first_error() const { return first_error_; }

 private:
  std::mutex mu_;  // guards next_, stop_, report_, first_error_ and progress_
  const std::vector<PendingObject>& pending_;
  Progress& progress_;
  LoadReport& report_;
  size_t next_ = 0;
  bool stop_ = false;
  std::optional<Error> first_error_;
};

// Direct first, unless a direct COPY into this table already met existing ids in this run; on a conflict
// the object, and the table's next objects, load staged.
Result<int64_t> load_direct_or_staged(ObjectLoader& loader, const PendingObject& p,
                                      std::optional<ObjectError>& failure,
                                      std::set<std::string_view>& staged) {
  bool conflict = false;
  auto r = loader.load(p, failure, !staged.contains(p.table->name), conflict);
  if (!r && conflict) {
    log::info(kLog, "{}: ids already in raw.{}; loading it (and the table's next objects) staged",
              p.entry.key, p.table->name);
    staged.insert(p.table->name);
    r = loader.load(p, failure, false, conflict);
  }
  return r;
}

// The session died mid-object: a new one, with its staging tables, before the retry.
Status reconnect(pg::Connection& conn, ObjectLoader& loader, const Config& cfg,
                 const pg::ConnectOptions& co) {
  auto c = pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co);
  if (!c) return std::move(c).error();
  conn = std::move(*c);
  return loader.prepare();
}

// One worker: its own S3 client and warehouse session, loading objects until none are left. A malformed
// object is quarantined; another failure is retried, then logged and reported, and the others still load.
void load_worker(const Config& cfg, const pg::ConnectOptions& co, const LoadOptions& opts, LoadRun& run) {
  s3::Client s3w(cfg.s3);
  auto wc = pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co);
  if (!wc) return run.fail(std::move(wc).error().context("connect warehouse (load worker)"));
  pg::Connection wconn = std::move(*wc);
  ObjectLoader loader(s3w, wconn, opts);
  if (auto st = loader.prepare(); !st) return run.fail(std::move(st).error().context("prepare"));
  // Tables where a direct COPY met existing ids in this run: their next objects go staged right away.
  std::set<std::string_view> staged;
  while (const PendingObject* pp = run.take()) {
    const PendingObject& p = *pp;
    if (shutdown::requested()) return run.fail(transient_error("interrupted by shutdown"));
    std::optional<ObjectError> failure;
    auto rows = retry<int64_t>(fmt::format("load {}", p.entry.key), Backoff{}, [&]() -> Result<int64_t> {
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
      if (auto st = quarantine(s3w, wconn, opts, p, failure->error); !st)
        return run.fail(std::move(st).error().context(p.entry.key));
    } else if (!rows) {
      log::error(kLog, "{}: {}", p.entry.key, rows.error().message);
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
  auto plan = plan_load(s3, *conn, opts.prefix);
  if (!plan) return std::move(plan).error();
  LoadReport report;
  report.epoch = plan->epoch;
  report.already_loaded = plan->already_loaded;
  report.superseded = plan->superseded;
  report.quarantined_before = plan->quarantined_before;
  report.via_compaction = plan->via_compaction;
  const std::vector<PendingObject>* pending = &plan->pending;
  long long total_bytes = 0;
  for (const auto& p : *pending) total_bytes += p.entry.bytes;
  log::emit(log::Level::kInfo, kLog, "objects to load",
            {{"pending", pending->size()},
             {"open_runs", plan->open_runs.size()},
             {"already_loaded", report.already_loaded},
             {"superseded", report.superseded},
             {"open_compactions", plan->open_compactions.size()},
             {"via_compaction", report.via_compaction},
             {"bytes", total_bytes}});

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
  if (!run.first_error()) {
    auto swept = finish_runs(*conn, opts.prefix, *plan);
    if (!swept) return std::move(swept).error();
    report.swept = *swept;
  }
  log::emit(log::Level::kInfo, kLog, "load finished",
            {{"objects", report.objects_loaded},
             {"rows", report.rows},
             {"deletes", report.deletes},
             {"quarantined", report.quarantined},
             {"already_loaded", report.already_loaded},
             {"superseded", report.superseded},
             {"swept", report.swept},
             {"peak_rss_kb", peak_rss_kb()}});
  if (run.first_error()) return *run.first_error();
  return report;
}

}  // namespace fp::batch
