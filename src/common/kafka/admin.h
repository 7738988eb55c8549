// Cluster administration over librdkafka's C Admin API (the C++ API has none): idempotent topic creation
// and deletion, topic listing and description (partitions, replication, configs), topic config changes,
// watermark offsets, and
// consumer-group listing with committed offsets and lag. Every call is bounded by the options' timeout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/kafka/client.h"

namespace fp::kafka {

struct AdminOptions {
  std::string bootstrap;
  std::string client_id = "fleetpipe-admin";
  Millis timeout{15000};  // per call (request timeout; the local wait adds a small margin)
  ConfigMap extra;
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  ConfigMap configs;  // e.g. {"cleanup.policy", "compact"}, {"retention.ms", "604800000"}
};

struct TopicCreation {
  std::string name;
  bool created = false;             // false: it already existed (TOPIC_ALREADY_EXISTS is not an error)
  int partitions = 0;               // the partition count the topic has now
  bool partition_mismatch = false;  // it existed with a partition count other than the one asked for
};

struct TopicInfo {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;  // replicas of partition 0
};

struct TopicDescription {
  TopicInfo info;
  ConfigMap configs;  // every topic config the broker reports (defaults included); sensitive values omitted
};

struct Watermark {
  int32_t partition = -1;
  int64_t low = 0;   // first offset still stored
  int64_t high = 0;  // offset the next message will get
};

struct GroupListing {
  std::string group_id;
  std::string state;  // "Stable", "Empty", ...
  bool simple = false;
};

struct GroupDescription {
  std::string group_id;
  std::string state;
  size_t members = 0;
  std::string error;  // non-empty when the broker could not describe this group
};

struct CommittedOffset {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;  // the next offset the group will read
};

// The lag of a group on one partition: high - committed, or high - low when nothing is committed (the
// group would start at the oldest stored message). Never negative: a committed offset past the high
// watermark (a truncated or recreated topic) counts as no lag.
int64_t partition_lag(int64_t committed, int64_t low, int64_t high);

struct PartitionLag {
  std::string topic;
  int32_t partition = -1;
  int64_t committed = -1;  // -1: the group has committed nothing for this partition
  int64_t high = 0;
  int64_t lag = 0;  // high - committed, or high - low when nothing is committed
};

class Admin {
 public:
  static Result<std::unique_ptr<Admin>> create(AdminOptions options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Creates the topics and waits until their metadata is visible. A topic that already exists is not an
  // error; its TopicCreation says so and flags (and logs) a partition count other than the requested one.
  Result<std::vector<TopicCreation>> create_topics(const std::vector<TopicSpec>& specs);
  Result<TopicCreation> create_topic(const TopicSpec& spec);
  // Deletes a topic; a topic that does not exist counts as deleted.
  Status delete_topic(const std::string& name);

  Result<std::vector<TopicInfo>> list_topics(bool include_internal = false);
  // kNotFound when the topic does not exist.
  Result<TopicInfo> topic_info(const std::string& name);
  Result<TopicDescription> describe_topic(const std::string& name);
  // The topic's own overrides only (configs set on the topic, not inherited from the broker's defaults).
  Result<ConfigMap> topic_overrides(const std::string& name);
  // Sets `changes` on the topic and keeps its other overrides. librdkafka 2.0 (Debian 12's) has no
  // IncrementalAlterConfigs (it came in 2.2), and the AlterConfigs it has replaces a topic's whole set of
  // overrides, reverting any not listed to the broker's default: so the current overrides are read first
  // and sent back with the changes. A change another client makes to the same topic between the two
  // requests would be undone; acceptable for a stack with one operator, which is what `up` runs against.
  Status alter_topic_configs(const std::string& name, const ConfigMap& changes);
  Result<std::vector<Watermark>> watermarks(const std::string& topic);

  Result<std::vector<GroupListing>> list_groups();
  // State and member count of each group (one request for all of them).
  Result<std::vector<GroupDescription>> describe_groups(const std::vector<std::string>& groups);
  // Every offset `group` has committed, on any topic, sorted by topic and partition.
  Result<std::vector<CommittedOffset>> group_offsets(const std::string& group);
  // Committed offset and lag of `group` on every partition of `topic`.
  Result<std::vector<PartitionLag>> group_lag(const std::string& group, const std::string& topic);

 private:
  struct Impl;
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fp::kafka
