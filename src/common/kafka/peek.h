// Reading a range of one partition without a consumer group: a short-lived legacy ("simple") consumer that
// fetches [from, to) of a topic partition and goes away. It never joins a group, never commits and never
// stores offsets, so looking at a topic (the console's message tail) cannot disturb any consumer's position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/kafka/client.h"
#include "common/kafka/consumer.h"  // Message

namespace fp::kafka {

struct PeekOptions {
  std::string bootstrap;
  std::string client_id = "fleetpipe-peek";
  Millis timeout{5000};  // for the whole read, connection included
  // Each key and value is kept up to this many bytes (a message may be as large as the broker allows:
  // a megabyte by default, more if the topic says so); the sizes on the broker are reported beside.
  size_t max_payload_bytes = SIZE_MAX;
  ConfigMap extra;
};

// A message as read, its key and value cut to PeekOptions::max_payload_bytes.
struct PeekedMessage : Message {
  size_t key_bytes = 0;    // on the broker (0 for a null key)
  size_t value_bytes = 0;  // on the broker (0 for a tombstone)
};

struct PeekResult {
  std::vector<PeekedMessage> messages;  // ascending offsets; fewer than to - from when some are gone
                                        // (compaction, retention, transaction markers)
  bool complete = true;                 // false: the timeout hit before the range was read
};

// Reads the messages of topic[partition] with offsets in [from, to), at most max_messages of them.
Result<PeekResult> peek(const PeekOptions& options, const std::string& topic, int32_t partition, int64_t from,
                        int64_t to, size_t max_messages = 1000);

}  // namespace fp::kafka
