// A consumer-group member with at-least-once semantics under the caller's control: auto-commit is off,
// the caller marks messages processed (store) and commits on demand; pending offsets are also committed
// before partitions are revoked in a rebalance and on close(), so a clean hand-over redelivers nothing.
//
// Threading: one thread uses a Consumer; the rebalance callback runs inside poll() on that thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/client.h"
#include "common/kafka/producer.h"  // Header

namespace fp::kafka {

enum class StartFrom { kBeginning, kEnd };  // auto.offset.reset when the group has no committed offset

struct ConsumerOptions {
  std::string bootstrap;
  std::string group_id;
  std::string client_id = "fleetpipe";
  StartFrom start_from = StartFrom::kBeginning;
  // Where a partition the group has no committed offset for starts, when known: e.g. the end offsets taken
  // just before a snapshot of the same data was read elsewhere, so that what the snapshot holds is not
  // read again and nothing after it is missed. Partitions not listed start as start_from says.
  std::map<std::pair<std::string, int32_t>, int64_t> start_offsets;
  int session_timeout_ms = 10000;
  int max_poll_interval_ms = 300000;
  ConfigMap extra;  // may not turn auto-commit back on (rejected as kInvalidInput)
};

Result<ConfigMap> consumer_config(const ConsumerOptions& options);

struct Message {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;    // nullopt: null key
  std::optional<std::string> value;  // nullopt: tombstone
  int64_t timestamp_ms = -1;         // -1 when the record has none
  bool log_append_time = false;      // timestamp set by the broker rather than the producer
  Headers headers;
};

class Consumer {
 public:
  static Result<std::unique_ptr<Consumer>> create(ConsumerOptions options);
  ~Consumer();  // close() if the caller did not; a failure is logged
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Subscribes to topics; an entry starting with '^' is a regex (e.g. "^webapp\\.public\\..*") matched
  // against all topics, including ones created later. Replaces any previous subscription.
  Status subscribe(const std::vector<std::string>& topics);

  // Returns up to max_messages, waiting up to timeout for the first and taking the rest only if already
  // fetched. Empty on timeout. Partition EOF is not an error. An error met after some messages were
  // collected is returned by the next call, so no message and no error is lost.
  Result<std::vector<Message>> poll(Millis timeout, size_t max_messages = 500);

  // Marks a message processed: its offset + 1 will be committed by the next commit().
  void store(const Message& m);
  void store(const std::vector<Message>& batch);
  // Synchronously commits the stored offsets (no-op when nothing is pending).
  Status commit();
  // Stored but not yet committed offsets, per (topic, partition).
  size_t pending_commits() const { return pending_.size(); }

  // Commits pending offsets, leaves the group (revoking partitions) and destroys the handle. Idempotent.
  Status close();

  // Currently assigned partitions (topic, partition).
  Result<std::vector<std::pair<std::string, int32_t>>> assignment();

 private:
  class Callbacks;
  using PartitionKey = std::pair<std::string, int32_t>;
  Consumer() = default;
  Status commit_partitions(const std::vector<PartitionKey>* only);
  // The partitions the group has no committed offset for start at options_.start_offsets, or with
  // StartFrom::kEnd at their current end, committed at once. Its lag then reads true from the first moment
  // (not the whole partition until it has consumed there), and a restart before the first message resumes
  // from that point instead of skipping what arrived in between. Returns those partitions.
  std::vector<RdKafka::TopicPartition*> pin_start(RdKafka::KafkaConsumer* c,
                                                  std::vector<RdKafka::TopicPartition*>& partitions);
  void on_rebalance(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions);

  ConsumerOptions options_;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::KafkaConsumer> handle_;
  std::map<PartitionKey, int64_t> pending_;  // next offset to commit
  std::optional<Error> deferred_error_;      // met by poll() after it had collected messages
};

}  // namespace fp::kafka
