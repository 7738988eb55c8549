// The Kafka sink: the idempotent producer (acks=all) from common/, one message per row keyed by vehicle
// id, the seed's JSON as the value. A batch counts as delivered only when flush() saw a delivery report for
// every message. Guarantee: within a run the idempotent producer never duplicates or reorders a vehicle's
// messages across retries; across runs (a crash, --resume, a re-run) delivery is at least once: a batch
// whose Kafka delivery was confirmed but whose checkpoint was not committed is sent again.
#pragma once

#include <memory>
#include <string>

#include "common/kafka/producer.h"
#include "generator/batch.h"

namespace fp::gen {

struct KafkaSinkOptions {
  std::string bootstrap;
  std::string topic = "trips";
  int delivery_timeout_ms = 60000;  // how long librdkafka retries a message before it counts as failed
};

class KafkaSink {
 public:
  // Creates the producer and checks, with retries and backoff, that the broker answers and the topic
  // exists (auto-creation is off); the error names the bootstrap servers.
  static Result<std::unique_ptr<KafkaSink>> create(KafkaSinkOptions options);

  // Enqueues every row of the batch (returns once they are in the producer's queue).
  Status produce(const Batch& batch);
  // Waits for the delivery report of everything enqueued.
  Status flush();
  Status close();
  uint64_t delivered() const { return producer_->stats().delivered; }
  std::string endpoint() const { return "kafka://" + options_.bootstrap + "/" + options_.topic; }

 private:
  KafkaSinkOptions options_;
  std::unique_ptr<kafka::Producer> producer_;
};

}  // namespace fp::gen
