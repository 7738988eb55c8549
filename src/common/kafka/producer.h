// An idempotent Kafka producer (enable.idempotence=true, acks=all) that never drops a message silently:
// a full local queue is waited out by serving delivery reports, every message gets a sequence number that
// its delivery report carries back, and flush() fails if anything is still undelivered or has failed.
// That is what lets a caller count a row as delivered only once Kafka has confirmed it.
//
// Threading: produce/poll/flush/close may be called from one thread at a time; delivery callbacks run on
// the thread calling poll(), flush() or produce() (when it waits for queue space).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/client.h"

namespace fp::kafka {

enum class Compression { kNone, kGzip, kSnappy, kLz4, kZstd };
Result<Compression> parse_compression(std::string_view name);
std::string_view compression_name(Compression c);

// The outcome of one message, reported once per successfully enqueued message.
struct Delivery {
  uint64_t sequence = 0;  // as returned by produce()
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;         // the broker-assigned offset when delivered
  std::optional<Error> error;  // empty when the broker acknowledged the message (acks=all)
  bool delivered() const { return !error.has_value(); }
};
using DeliveryCallback = std::function<void(const Delivery&)>;

struct ProducerOptions {
  std::string bootstrap;  // e.g. fp::Config::load()->kafka_bootstrap
  std::string client_id = "fleetpipe";
  int linger_ms = 20;  // batching window: trades a little latency for much larger, better compressed batches
  int batch_size_bytes = 1 << 20;
  Compression compression = Compression::kLz4;
  // How long librdkafka keeps retrying one message before reporting it failed (delivery.timeout.ms).
  int message_timeout_ms = 120000;
  // How long produce() waits for room in a full local queue before giving up with a transient error.
  Millis enqueue_timeout{30000};
  // Called for every delivery report (confirmed or failed), on the polling thread.
  DeliveryCallback on_delivery;
  // Extra librdkafka properties; may not weaken the idempotence guarantees (rejected as kInvalidInput).
  ConfigMap extra;
};

// The librdkafka properties the options translate to, validated (kInvalidInput on a bad option).
Result<ConfigMap> producer_config(const ProducerOptions& options);

struct ProducerStats {
  uint64_t enqueued = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  int outstanding = 0;  // enqueued, neither delivered nor failed yet (includes in-flight requests)
  std::optional<Error> last_error;
};

struct Header {
  std::string key;
  std::optional<std::string> value;  // nullopt is a null header value
};
using Headers = std::vector<Header>;

// One outgoing record. A null key lets the partitioner spread messages; a null value is a tombstone.
struct Record {
  std::string_view topic;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  Headers headers;
  int32_t partition = -1;  // -1: chosen by the partitioner from the key
};

class Producer {
 public:
  static Result<std::unique_ptr<Producer>> create(ProducerOptions options);
  ~Producer();  // close() with a short timeout if the caller did not; a failure is logged, not hidden
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues a message and returns its sequence number (1, 2, ...; unique within this producer). Waits up
  // to enqueue_timeout for queue space, serving delivery reports meanwhile. An error means the message
  // was NOT enqueued and no delivery report will follow.
  Result<uint64_t> produce(const Record& record);
  Result<uint64_t> produce(std::string_view topic, std::string_view key, std::string_view value);

  // Serves pending delivery reports, waiting up to timeout for the first; returns how many were served.
  int poll(Millis timeout = Millis(0));

  // Waits until every enqueued message has a delivery report. Fails when messages remain undelivered
  // after the timeout (kTransient), when any delivery failed since the previous flush (the last error's
  // kind), or on a fatal producer error (kPermanent).
  Status flush(Millis timeout);

  // flush(timeout), then destroys the handle; later calls fail. Idempotent.
  Status close(Millis timeout = Millis(30000));

  ProducerStats stats() const;
  // The fatal error (e.g. an idempotence guarantee that can no longer be kept), if one occurred.
  std::optional<Error> fatal_error() const;

 private:
  class Callbacks;
  Producer() = default;
  void on_report(Delivery d);
  Status check_fatal() const;

  ProducerOptions options_;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::Producer> handle_;
  std::atomic<uint64_t> next_sequence_{1};
  std::atomic<uint64_t> enqueued_{0}, delivered_{0}, failed_{0};
  uint64_t failed_at_last_flush_ = 0;
  mutable std::mutex mu_;  // guards last_error_ and fatal_ (written from librdkafka threads)
  std::optional<Error> last_error_;
  std::optional<Error> fatal_;
};

}  // namespace fp::kafka
