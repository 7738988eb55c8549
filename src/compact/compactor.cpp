#include "compact/compactor.h"

#include <fmt/chrono.h>

#include <charconv>
#include <chrono>
#include <map>
#include <set>

#include "common/batch/compaction.h"
#include "common/batch/session.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "common/shutdown.h"
#include "compact/output.h"
#include "compact/selection.h"
#include "load/ndjson_lines.h"

namespace fp::compact {
namespace {

using batch::CompactionManifest;
using batch::ObjectEntry;
using batch::ObjectKind;

constexpr std::string_view kLog = "compact";
// Advisory lock key: "fleetcmp".
constexpr int64_t kCompactLockKey = 0x666c656574636d70;
// Export writes short lines; this bounds what a damaged object can make the compactor hold.
constexpr size_t kMaxLineBytes = 1 << 20;

// The run and compaction manifests a pass reads, each at most once.
class Manifests {
 public:
  Manifests(s3::Client& s3, std::string prefix) : s3_(s3), prefix_(std::move(prefix)) {}

  Result<const batch::RunManifest*> run(int64_t n) {
    auto it = runs_.find(n);
    if (it == runs_.end())
      it = runs_.emplace(n, FP_TRY(batch::read_manifest(s3_, prefix_, n), "run manifest")).first;
    return &it->second;
  }

  // The committed entry for a data key, or nullopt when no committed manifest lists it (an object of a
  // crashed export or compaction, which is not ours to touch).
  Result<std::optional<Source>> source_of(const batch::DataKey& k, const std::string& key) {
    if (k.run > 0) {
      const auto* m = FP_TRY(run(k.run), key);
      for (const auto& o : m->objects)
        if (o.key == key)
          return std::optional<Source>(Source{o, m->range.epoch, m->range.xid_from, m->range.xid_to});
      return std::optional<Source>();
    }
    auto it = compactions_.find(k.compaction);
    if (it == compactions_.end()) {
      auto c = batch::read_compaction(s3_, prefix_, k.compaction);
      if (!c && c.error().kind == Error::Kind::kNotFound) return std::optional<Source>();  // uncommitted
      if (!c) return std::move(c).error().context(key);
      it = compactions_.emplace(k.compaction, std::move(*c)).first;
    }
    for (const auto& o : it->second.outputs)
      if (o.key == key)
        return std::optional<Source>(Source{o, it->second.epoch, it->second.xid_from, it->second.xid_to});
    return std::optional<Source>();
  }

 private:
  s3::Client& s3_;
  const std::string prefix_;
  std::map<int64_t, batch::RunManifest> runs_;
  std::map<int64_t, CompactionManifest> compactions_;
};

// --- 1. What a crashed pass left -------------------------------------------------------------------------

// Deletes the objects an uncommitted compaction wrote (its key names it), then its intent.
Status abort_uncommitted(s3::Client& s3, const std::string& prefix, const CompactionManifest& intent) {
  auto listed = FP_TRY(s3.list_all(fmt::format("{}{}/dt={}/", prefix, intent.table, intent.dt)), "list day");
  int64_t deleted = 0;
  for (const auto& o : listed) {
    auto k = batch::parse_data_key(prefix, o.key);
    if (!k || k->compaction != intent.compaction) continue;
    FP_CHECK(s3.delete_object(o.key), "delete an uncommitted compaction's object");
    ++deleted;
  }
  FP_CHECK(s3.delete_object(batch::compaction_intent_key(prefix, intent.compaction)), "delete intent");
  log::emit(
      log::Level::kWarn, kLog, "uncommitted compaction cleaned away",
      {{"compaction", intent.compaction}, {"table", intent.table}, {"dt", intent.dt}, {"objects", deleted}});
  return ok_status();
}

// Deletes the objects a committed compaction replaced (some may be gone already), then its intent.
Status finish_committed(s3::Client& s3, const std::string& prefix, const CompactionManifest& m) {
  for (const auto& r : m.replaces) FP_CHECK(s3.delete_object(r.key), "delete a replaced object");
  FP_CHECK(s3.delete_object(batch::compaction_intent_key(prefix, m.compaction)), "delete intent");
  return ok_status();
}

// `again` gains the days of the compactions cleaned away: their small objects are still there to compact.
Status finish_crashed(s3::Client& s3, const std::string& prefix, const batch::CompactionState& state,
                      CompactReport& report, std::set<std::pair<std::string, std::string>>& again) {
  const std::set<int64_t> committed(state.committed.begin(), state.committed.end());
  for (int64_t n : state.intents) {
    if (committed.contains(n)) {
      auto m = FP_TRY(batch::read_compaction(s3, prefix, n), "committed compaction");
      FP_CHECK(finish_committed(s3, prefix, m), fmt::format("finish compaction {}", n));
      log::emit(log::Level::kInfo, kLog, "committed compaction finished: replaced objects deleted",
                {{"compaction", n}, {"table", m.table}, {"dt", m.dt}, {"replaced", m.replaces.size()}});
      ++report.finished;
    } else {
      auto intent = FP_TRY(batch::read_compaction_intent(s3, prefix, n), "compaction intent");
      FP_CHECK(abort_uncommitted(s3, prefix, intent), fmt::format("clean compaction {}", n));
      again.insert({intent.table, intent.dt});
      ++report.aborted;
    }
  }
  return ok_status();
}

// --- 2. Which days -----------------------------------------------------------------------------------------

using Day = std::pair<std::string, std::string>;  // table, dt

// How far the runs were read, and the days seen that were not compacted yet. Only a hint: lost or stale,
// the next pass reads a few more manifests or compacts a day that has nothing left to compact.
struct Cursor {
  int64_t run = 0;
  std::set<Day> waiting;
};

Result<Cursor> read_cursor(s3::Client& s3, const std::string& prefix) {
  auto body = s3.get_object(batch::compaction_cursor_key(prefix));
  if (!body && body.error().kind == Error::Kind::kNotFound) return Cursor{};
  if (!body) return std::move(body).error().context("compaction cursor");
  auto j = nlohmann::json::parse(*body, nullptr, false);
  Cursor c;
  if (j.is_discarded() || !j.is_object()) {
    log::warn(kLog, "the compaction cursor is not JSON: reading the runs from the first");
    return c;
  }
  c.run = j.value("run", int64_t{0});
  for (const auto& d : j.value("waiting", nlohmann::json::array()))
    if (d.is_object() && d.contains("table") && d.contains("dt"))
      c.waiting.insert({d["table"].get<std::string>(), d["dt"].get<std::string>()});
  return c;
}

Status write_cursor(s3::Client& s3, const std::string& prefix, const Cursor& c) {
  nlohmann::json waiting = nlohmann::json::array();
  for (const auto& [table, dt] : c.waiting) waiting.push_back({{"table", table}, {"dt", dt}});
  FP_TRY(s3.put_object(batch::compaction_cursor_key(prefix),
                       nlohmann::json{{"run", c.run}, {"waiting", waiting}}.dump(), "application/json"),
         "compaction cursor");
  return ok_status();
}

// --- 3. One day --------------------------------------------------------------------------------------------

// Copies one replaced object's lines into `out`, checking it is the object its manifest lists: the SHA-256
// of the stored bytes, a gzip stream that ends, and the row count.
Status copy_lines(s3::Client& s3, const Source& src, CompactedObjects& out) {
  const ObjectEntry& e = src.entry;
  batch::Sha256Stream sha;
  batch::GunzipReader gunzip;
  batch::NdjsonLines lines(kMaxLineBytes);
  int64_t rows = 0;
  auto on_line = [&](std::string_view line, size_t, int64_t line_no) -> Status {
    auto id = leading_id(line);
    if (!id) return invalid_input("line {} does not start with {{\"id\":<integer>", line_no);
    if (++rows > e.rows) return invalid_input("more lines than the {} its manifest lists", e.rows);
    return out.add(line, *id);
  };
  std::optional<Error> failed;
  auto got = s3.get_object(e.key, [&](const char* data, size_t len) {
    const std::string_view chunk(data, len);
    sha.update(chunk);
    auto st = gunzip.write(chunk, [&](std::string_view piece) { return lines.add(piece, on_line); });
    if (!st) failed = std::move(st).error();
    return !failed && !shutdown::requested();
  });
  if (failed) return std::move(*failed).context(e.key);
  if (!got) return std::move(got).error().context(e.key);
  if (shutdown::requested()) return transient_error("interrupted by shutdown");
  FP_CHECK(gunzip.finish(), e.key);
  FP_CHECK(lines.finish(on_line), e.key);
  if (const auto digest = sha.hex_digest(); digest != e.sha256)
    return invalid_input("{}: sha256 {} but its manifest lists {}", e.key, digest, e.sha256);
  if (rows != e.rows) return invalid_input("{}: {} lines but its manifest lists {}", e.key, rows, e.rows);
  return ok_status();
}

// Writes the compaction's objects, rows first, then tombstones (parts numbered across both). On a failure
// the objects already uploaded stay: abort_uncommitted() finds them by the compaction's number.
Result<std::vector<ObjectEntry>> write_outputs(s3::Client& s3, const CompactOptions& opts, int64_t target,
                                               const CompactionManifest& m,
                                               const std::vector<Source>& inputs) {
  std::vector<ObjectEntry> written;
  for (auto kind : {ObjectKind::kRows, ObjectKind::kDeletes}) {
    CompactedObjects out(s3, {opts.prefix, m.table, m.dt, m.compaction, kind, target, opts.gzip_level,
                              static_cast<int>(written.size())});
    for (const auto& in : inputs)
      if (in.entry.kind == kind) FP_CHECK(copy_lines(s3, in, out), "copy");
    FP_CHECK(out.finish(), "last object");
    written.insert(written.end(), out.written().begin(), out.written().end());
  }
  return written;
}

std::string utc_now_iso() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

struct DayJob {
  const Config& cfg;
  const CompactOptions& opts;
  s3::Client& s3;
  Manifests& manifests;
  int epoch;
  int64_t newest_run;
};

// The day's objects worth compacting: listed by a committed manifest of the newest epoch, not of the newest
// run, smaller than half the target, two or more of a kind.
Result<std::vector<Source>> small_objects(DayJob& job, const Day& day, DayOutcome& outcome) {
  const auto& [table, dt] = day;
  const int64_t target = job.cfg.lifecycle.bucket_compact_target_bytes;
  auto listed = FP_TRY(job.s3.list_all(fmt::format("{}{}/dt={}/", job.opts.prefix, table, dt)), "list day");
  std::vector<Source> all;
  for (const auto& o : listed) {
    auto k = batch::parse_data_key(job.opts.prefix, o.key);
    if (!k || k->table != table || k->dt != dt || k->run >= job.newest_run) continue;
    auto src = FP_TRY(job.manifests.source_of(*k, o.key), "manifest entry");
    if (src && src->epoch == job.epoch) all.push_back(std::move(*src));
  }
  auto out = choose_inputs(std::move(all), target);
  for (const auto& s : out) outcome.bytes_before += s.entry.bytes;
  if (out.empty()) outcome.skipped = "fewer than two small objects of a kind";
  return out;
}

Result<DayOutcome> compact_day(DayJob& job, const Day& day, int64_t n) {
  DayOutcome outcome;
  outcome.table = day.first;
  outcome.dt = day.second;
  auto inputs = FP_TRY(small_objects(job, day, outcome), "small objects");
  if (inputs.empty()) return outcome;
  outcome.replaced = static_cast<int64_t>(inputs.size());
  if (job.opts.dry_run) {
    outcome.skipped = "dry run";
    return outcome;
  }
  CompactionManifest m;
  m.compaction = n;
  m.epoch = job.epoch;
  m.table = day.first;
  m.dt = day.second;
  m.xid_from = inputs.front().xid_from;
  m.xid_to = inputs.front().xid_to;
  for (const auto& in : inputs) {
    m.replaces.push_back(in.entry);
    m.xid_from = std::min(m.xid_from, in.xid_from);
    m.xid_to = std::max(m.xid_to, in.xid_to);
  }
  const std::string& prefix = job.opts.prefix;
  FP_TRY(job.s3.put_object(batch::compaction_intent_key(prefix, n), m.to_json().dump(), "application/json"),
         "write intent");
  auto outputs = write_outputs(job.s3, job.opts, job.cfg.lifecycle.bucket_compact_target_bytes, m, inputs);
  std::optional<Error> failure;
  if (outputs) {
    m.outputs = std::move(*outputs);
    for (auto kind : {ObjectKind::kRows, ObjectKind::kDeletes}) {
      const int64_t in = CompactionManifest::rows_of(m.replaces, kind);
      const int64_t out = CompactionManifest::rows_of(m.outputs, kind);
      if (!failure && in != out)
        failure = make_error("wrote {} {} lines for {} replaced", out, batch::kind_name(kind), in);
    }
  } else {
    failure = std::move(outputs).error();
  }
  if (failure) {
    // Not committed: nothing refers to what was written. Cleaned now, or by the next pass if this fails.
    if (auto st = abort_uncommitted(job.s3, prefix, m); !st)
      log::warn(kLog, "compaction {} not cleaned yet (the next pass will): {}", n, st.error().message);
    return std::move(*failure).context(fmt::format("compaction {} of {} {}", n, day.first, day.second));
  }
  m.committed_at = utc_now_iso();
  FP_TRY(job.s3.put_object(batch::compaction_key(prefix, n), m.to_json().dump(), "application/json"),
         "commit compaction");
  outcome.compaction = n;
  outcome.outputs = static_cast<int64_t>(m.outputs.size());
  for (const auto& o : m.outputs) {
    outcome.rows += o.rows;
    outcome.bytes_after += o.bytes;
  }
  log::emit(log::Level::kInfo, kLog, "compaction committed",
            {{"compaction", n},
             {"table", day.first},
             {"dt", day.second},
             {"replaced", outcome.replaced},
             {"outputs", outcome.outputs},
             {"lines", outcome.rows},
             {"bytes_before", outcome.bytes_before},
             {"bytes_after", outcome.bytes_after}});
  FP_CHECK(finish_committed(job.s3, prefix, m), "delete replaced objects (the next pass finishes)");
  return outcome;
}

}  // namespace

Result<CompactReport> run_compact(const Config& cfg, const CompactOptions& opts) {
  s3::Client s3(cfg.s3);
  auto conn = FP_TRY(
      pg::Connection::connect(cfg.webapp_as(DbService::kPipeline),
                              batch::text_stable_session("fleetpipe compact", std::chrono::minutes(1))),
      "connect webapp");
  FP_CHECK(batch::take_run_lock(conn, kCompactLockKey, std::chrono::seconds(10), "compact"), "compact");
  CompactReport report;
  const std::string& prefix = opts.prefix;

  // 1. A crashed pass's leftovers; then the next number follows the highest committed one, without gaps.
  auto state = FP_TRY(batch::read_compaction_state(s3, prefix), "compactions");
  std::set<Day> cleaned;
  if (!opts.dry_run) FP_CHECK(finish_crashed(s3, prefix, state, report, cleaned), "crashed pass");
  int64_t next = (state.committed.empty() ? 0 : state.committed.back()) + 1;

  // 2. The days the runs since the cursor wrote, and those already waiting.
  auto head = FP_TRY(batch::read_manifest_head(s3, prefix), "manifest head");
  if (head.committed_runs.empty()) return report;
  Manifests manifests(s3, prefix);
  const int64_t newest = head.committed_runs.back();
  const int epoch = FP_TRY(manifests.run(newest), "newest run")->range.epoch;
  Cursor cursor = FP_TRY(read_cursor(s3, prefix), "cursor");
  const Cursor before = cursor;
  std::set<Day> days = cursor.waiting;
  days.insert(cleaned.begin(), cleaned.end());
  auto after = FP_TRY(batch::read_manifests_after(s3, prefix, cursor.run), "runs since the cursor");
  for (int64_t run : after.committed_runs) {
    if (run >= newest || report.runs_read >= opts.max_runs) break;
    const auto* m = FP_TRY(manifests.run(run), "run manifest");
    if (m->range.epoch == epoch)
      for (const auto& o : m->objects) days.insert({o.table, o.dt});
    cursor.run = run;
    ++report.runs_read;
  }

  // 3. The closed days, oldest first (dt sorts as a date).
  std::vector<Day> ordered(days.begin(), days.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Day& a, const Day& b) { return a.second < b.second; });
  DayJob job{cfg, opts, s3, manifests, epoch, newest};
  const auto now = std::chrono::system_clock::now();
  cursor.waiting.clear();
  std::optional<Error> first_error;
  int attempted = 0;
  for (const auto& day : ordered) {
    if (shutdown::requested()) return transient_error("interrupted by shutdown");
    auto closed = day_closed(day.second, cfg.lifecycle.bucket_compact_after, now);
    if (!closed) {
      log::warn(kLog, "{}: dt={:?} is not a date; left as it is", day.first, day.second);
      continue;
    }
    if (!*closed || attempted >= opts.max_days) {
      cursor.waiting.insert(day);
      continue;
    }
    ++attempted;
    auto outcome = first_error ? Result<DayOutcome>(transient_error("after an earlier failure"))
                               : compact_day(job, day, next);
    if (!outcome) {
      // The rest waits for the next pass, which first finishes or cleans what this one left: numbers and
      // intents stay as they are until then.
      cursor.waiting.insert(day);
      if (!first_error) {
        log::error(kLog, "{} {}: {}", day.first, day.second, outcome.error().message);
        first_error = std::move(outcome).error();
      }
      continue;
    }
    if (outcome->compaction > 0) ++next;
    report.days.push_back(std::move(*outcome));
  }
  report.waiting = static_cast<int64_t>(cursor.waiting.size());

  // 4. The cursor, when it moved.
  if (!opts.dry_run && (cursor.run != before.run || cursor.waiting != before.waiting))
    FP_CHECK(write_cursor(s3, prefix, cursor), "cursor");
  if (first_error) return *first_error;
  return report;
}

}  // namespace fp::compact
