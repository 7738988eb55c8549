// Disk usage per store: each PostgreSQL database (pg_database_size) and each server's WAL (pg_ls_waldir,
// readable by pg_monitor, which sql/grants/ gives the console's role), Kafka per topic (the sizes of the
// broker's partition directories: librdkafka 2.0 has no DescribeLogDirs), the bucket (a ListObjectsV2 walk,
// so it works against any S3), and the state directory (its filesystem's statvfs and the size of each of its
// stores' subdirectories). Every measurement has its own time limit, and one that fails or runs out of time
// is reported as such beside the others: a partial figure is marked incomplete (a lower bound), never
// silently short. What `status --json` shows in each store's part ("disk"), the console's Storage card and
// its fp_disk_* gauges.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/component.h"

namespace fp::stack {

struct DiskOptions {
  std::chrono::milliseconds tree_time{2000};    // per directory walk
  std::chrono::milliseconds bucket_time{5000};  // the whole listing
  std::string bucket_prefix;                    // only objects under it
  int pg_connect_timeout_s = 2;
  std::chrono::milliseconds pg_statement{3000};
};

// The state directory's subdirectories that hold a store's data (and the logs).
inline constexpr const char* kStateStores[] = {"postgres", "kafka", "s3proxy", "log"};

// Measures everything; never fails as a whole (each entry carries its own "error").
nlohmann::json measure_disk(const Context& ctx, const DiskOptions& options = {});
// Only what is on this machine's disk and needs no server: the filesystem, the state directory's stores and
// Kafka's topics (from its log directory).
nlohmann::json measure_local_disk(const Context& ctx, const DiskOptions& options = {});

// A partition directory of Kafka's log directory, "<topic>-<partition>", as (topic, partition); nullopt
// for anything else (a topic being deleted, "<topic>-<n>.<id>-delete", meta.properties, checkpoints).
std::optional<std::pair<std::string, int>> parse_partition_dir(std::string_view name);

// One measured figure: store is "filesystem" (name total/used/free), "state_dir", "postgres_database",
// "postgres_wal", "kafka_topic" or "bucket"; failed entries are left out.
struct DiskLine {
  std::string store;
  std::string name;
  int64_t bytes = 0;
  bool complete = true;
};
std::vector<DiskLine> disk_lines(const nlohmann::json& disk);

// `status --json` stays the array of parts it always was; each store's part gains a "disk" object with its
// own figures: the PostgreSQL servers their databases and WAL, kafka its topics, s3proxy the bucket, and the
// supervisor (the part that owns the state directory) the filesystem and the state directory's stores.
void attach_disk(nlohmann::json& parts, const nlohmann::json& disk);

// `status`'s short table of the figures, and a line for each measurement that failed (disk_table.cpp).
std::string disk_table(const nlohmann::json& disk);

}  // namespace fp::stack
