#include "stack/disk_report.h"

#include <cctype>
#include <map>

#include "common/disk_space.h"
#include "common/log.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "stack/kafka_budget.h"

namespace fp::stack {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json filesystem_json(const std::filesystem::path& state) {
  json out = {{"path", state.string()}};
  auto fs = filesystem_space(state);
  if (!fs) {
    out["error"] = fs.error().message;
    return out;
  }
  out["total_bytes"] = fs->total_bytes;
  out["used_bytes"] = fs->used_bytes;
  out["free_bytes"] = fs->free_bytes;
  return out;
}

json state_dir_json(const Context& ctx, const DiskOptions& o) {
  json parts = json::array();
  for (const char* name : kStateStores) {
    json item = {{"name", name}};
    auto t = tree_size(ctx.state() / name, TreeSizeLimits{o.tree_time, 500000});
    if (t) {
      item["bytes"] = t->bytes;
      item["files"] = t->files;
      item["complete"] = t->complete;
    } else if (t.error().kind == Error::Kind::kNotFound) {
      item["bytes"] = 0;  // not created yet: the store holds nothing here
      item["complete"] = true;
    } else {
      item["error"] = t.error().message;
    }
    parts.push_back(std::move(item));
  }
  return {{"path", ctx.state().string()}, {"parts", std::move(parts)}};
}

// One server: its databases' sizes and its WAL, read as the console's role (pg_monitor: every database's size
// and pg_ls_waldir()).
json postgres_json(const std::string& server, const PgConfig& pg, const DiskOptions& o) {
  json out = {{"server", server}};
  pg::ConnectOptions co;
  co.connect_timeout_s = o.pg_connect_timeout_s;
  co.statement_timeout = o.pg_statement;
  co.client_grace = std::chrono::milliseconds(1000);
  auto conn = pg::Connection::connect_once(pg, co);
  if (!conn) {
    out["error"] = conn.error().message;
    return out;
  }
  auto rows = conn->query(
      "SELECT datname, pg_database_size(oid) FROM pg_database WHERE datallowconn AND NOT datistemplate "
      "ORDER BY datname");
  if (!rows) {
    out["error"] = rows.error().message;
    return out;
  }
  json dbs = json::array();
  for (int i = 0; i < rows->size(); ++i) {
    auto name = rows->get<std::string>(i, 0);
    auto bytes = rows->get<int64_t>(i, 1);
    if (name && bytes) dbs.push_back({{"name", *name}, {"bytes", *bytes}});
  }
  out["databases"] = std::move(dbs);
  auto wal = conn->query("SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()");
  auto wal_bytes = wal ? wal->get<int64_t>(0, 0) : Result<int64_t>(wal.error());
  if (wal_bytes)
    out["wal_bytes"] = *wal_bytes;
  else
    out["wal_error"] =
        wal_bytes.error().message + " (pg_ls_waldir needs pg_monitor: `fleetpipe up` grants it)";
  return out;
}

json kafka_json(const Context& ctx, const DiskOptions& o) {
  const auto dir = kafka_log_dir(ctx);
  json out = {{"source", dir.string()}};
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    out["error"] = fmt::format(
        "{}: {} (sizes come from the broker's log directory, so only for a broker "
        "running from this state directory)",
        dir.string(), ec.message());
    return out;
  }
  struct Topic {
    int partitions = 0;
    int64_t bytes = 0;
    bool complete = true;
  };
  std::map<std::string, Topic> topics;
  const auto deadline = Clock::now() + o.tree_time;
  bool complete = true;
  for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
    if (ec || Clock::now() > deadline) {
      complete = false;
      break;
    }
    const auto parsed = parse_partition_dir(it->path().filename().string());
    if (!parsed || !it->is_directory(ec)) continue;
    // A partition holds a handful of segment and index files: each walk is short.
    auto t = tree_size(it->path(), TreeSizeLimits{std::chrono::milliseconds(200), 10000});
    auto& topic = topics[parsed->first];
    ++topic.partitions;
    if (t) {
      topic.bytes += t->bytes;
      topic.complete = topic.complete && t->complete;
    } else {
      topic.complete = false;
    }
  }
  json arr = json::array();
  for (const auto& [name, t] : topics)
    arr.push_back(
        {{"name", name}, {"partitions", t.partitions}, {"bytes", t.bytes}, {"complete", t.complete}});
  out["topics"] = std::move(arr);
  out["complete"] = complete;
  return out;
}

json bucket_json(const Context& ctx, const DiskOptions& o) {
  json out = {{"bucket", ctx.cfg.s3.bucket}, {"prefix", o.bucket_prefix}};
  s3::ClientOptions co;
  co.connect_timeout = std::chrono::milliseconds(2000);
  co.request_timeout = std::chrono::milliseconds(3000);
  co.backoff.max_attempts = 1;
  s3::Client client(ctx.cfg.s3, co);
  const auto deadline = Clock::now() + o.bucket_time;
  int64_t bytes = 0;
  int64_t objects = 0;
  std::string token;
  for (;;) {
    // A listing page is 1 000 keys: a bucket of a year's objects takes a few hundred pages, so the walk is
    // bounded and a long one reports what it counted so far.
    if (Clock::now() > deadline) {
      out["complete"] = false;
      break;
    }
    auto page = client.list_objects_v2(o.bucket_prefix, token);
    if (!page) {
      out["error"] = page.error().message;
      return out;
    }
    for (const auto& obj : page->objects) {
      bytes += obj.size;
      ++objects;
    }
    if (!page->truncated) {
      out["complete"] = true;
      break;
    }
    token = page->next_continuation_token;
  }
  out["bytes"] = bytes;
  out["objects"] = objects;
  return out;
}

}  // namespace

std::optional<std::pair<std::string, int>> parse_partition_dir(std::string_view name) {
  const auto dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= name.size()) return std::nullopt;
  int partition = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i])) || i - dash > 9) return std::nullopt;
    partition = partition * 10 + (name[i] - '0');
  }
  return std::make_pair(std::string(name.substr(0, dash)), partition);
}

nlohmann::json measure_local_disk(const Context& ctx, const DiskOptions& options) {
  json out = {{"taken_at_ms", now_ms()}};
  out["filesystem"] = filesystem_json(ctx.state());
  out["state_dir"] = state_dir_json(ctx, options);
  out["kafka"] = kafka_json(ctx, options);
  return out;
}

nlohmann::json measure_disk(const Context& ctx, const DiskOptions& options) {
  json out = measure_local_disk(ctx, options);
  json pg = json::array();
  pg.push_back(postgres_json("postgres-webapp", ctx.cfg.webapp_as(DbService::kConsole), options));
  pg.push_back(postgres_json("postgres-warehouse", ctx.cfg.warehouse_as(DbService::kConsole), options));
  out["postgres"] = std::move(pg);
  out["bucket"] = bucket_json(ctx, options);
  return out;
}

void attach_disk(json& parts, const json& disk) {
  std::map<std::string, json> by_part;
  for (const auto& s : disk.value("postgres", json::array())) by_part[s.value("server", "")] = s;
  by_part["kafka"] = disk.value("kafka", json::object());
  by_part["s3proxy"] = disk.value("bucket", json::object());
  by_part["supervisor"] = {{"filesystem", disk.value("filesystem", json::object())},
                           {"state_dir", disk.value("state_dir", json::object())}};
  for (auto& p : parts) {
    auto it = by_part.find(p.value("name", ""));
    if (it == by_part.end()) continue;
    p["disk"] = it->second;
    p["disk"]["taken_at_ms"] = disk.value("taken_at_ms", int64_t{0});
  }
}

std::vector<DiskLine> disk_lines(const json& disk) {
  std::vector<DiskLine> out;
  auto add = [&](const char* store, const std::string& name, const json& j, const char* key) {
    if (j.is_object() && j.contains(key) && j[key].is_number_integer())
      out.push_back(DiskLine{store, name, j[key].get<int64_t>(), j.value("complete", true)});
  };
  const json fs = disk.value("filesystem", json::object());
  add("filesystem", "total", fs, "total_bytes");
  add("filesystem", "used", fs, "used_bytes");
  add("filesystem", "free", fs, "free_bytes");
  for (const auto& p : disk.value("state_dir", json::object()).value("parts", json::array()))
    add("state_dir", p.value("name", ""), p, "bytes");
  for (const auto& s : disk.value("postgres", json::array())) {
    for (const auto& d : s.value("databases", json::array()))
      add("postgres_database", s.value("server", "") + "/" + d.value("name", ""), d, "bytes");
    add("postgres_wal", s.value("server", ""), s, "wal_bytes");
  }
  for (const auto& t : disk.value("kafka", json::object()).value("topics", json::array()))
    add("kafka_topic", t.value("name", ""), t, "bytes");
  const json bucket = disk.value("bucket", json::object());
  add("bucket", bucket.value("bucket", ""), bucket, "bytes");
  return out;
}

}  // namespace fp::stack
