#include "common/kafka/peek.h"

#include <algorithm>
#include <chrono>

namespace fp::kafka {

namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

PeekedMessage to_message(const rd_kafka_message_t& m, const std::string& topic, size_t max_bytes) {
  PeekedMessage out;
  out.topic = topic;
  out.partition = m.partition;
  out.offset = m.offset;
  if (m.key) {
    out.key_bytes = m.key_len;
    out.key = std::string(static_cast<const char*>(m.key), std::min(m.key_len, max_bytes));
  }
  if (m.payload) {
    out.value_bytes = m.len;
    out.value = std::string(static_cast<const char*>(m.payload), std::min(m.len, max_bytes));
  }
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  out.timestamp_ms = rd_kafka_message_timestamp(&m, &type);
  out.log_append_time = type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME;
  return out;
}

}  // namespace

Result<PeekResult> peek(const PeekOptions& options, const std::string& topic, int32_t partition, int64_t from,
                        int64_t to, size_t max_messages) {
  const auto what = fmt::format("read {}[{}] offsets {}..{}", topic, partition, from, to);
  FP_CHECK(validate_bootstrap(options.bootstrap), what);
  if (from < 0 || to < from || partition < 0) return invalid_input("{}: bad range", what);
  PeekResult result;
  if (from == to || max_messages == 0) return result;
  if (to - from > static_cast<int64_t>(max_messages)) from = to - static_cast<int64_t>(max_messages);

  ConfigMap props = options.extra;
  props["bootstrap.servers"] = options.bootstrap;
  props["client.id"] = options.client_id;
  props["enable.partition.eof"] = "true";
  // No group.id: nothing can be committed. Say so explicitly anyway.
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  // A tail is small; do not prefetch megabytes from a busy partition.
  props["queued.max.messages.kbytes"] = "4096";
  CConfPtr conf = FP_TRY(make_c_conf(props), what);
  char errstr[512];
  std::unique_ptr<rd_kafka_t, HandleDeleter> rk(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof(errstr)));
  if (!rk) return invalid_input("{}: {}", what, errstr);
  conf.release();  // NOLINT(bugprone-unused-return-value): rd_kafka_new took ownership

  rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
  // The legacy consumer has its own (topic-level) auto-commit switch.
  if (rd_kafka_topic_conf_set(tconf, "auto.commit.enable", "false", errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_topic_conf_destroy(tconf);
    return invalid_input("{}: {}", what, errstr);
  }
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> rkt(rd_kafka_topic_new(rk.get(), topic.c_str(), tconf));
  if (!rkt) return kafka_error(rd_kafka_last_error(), what);

  if (rd_kafka_consume_start(rkt.get(), partition, from) != 0)
    return kafka_error(rd_kafka_last_error(), what);
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  Status status = ok_status();
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.complete = false;
      break;
    }
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
        rd_kafka_consume(rkt.get(), partition, static_cast<int>(left.count())));
    if (!m) {
      const auto err = rd_kafka_last_error();
      if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        result.complete = false;
      } else {
        status = kafka_error(err, what);
      }
      break;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = kafka_error(m->err, what, rd_kafka_message_errstr(m.get()));
      break;
    }
    if (m->offset >= to) break;
    result.messages.push_back(to_message(*m, topic, options.max_payload_bytes));
    if (m->offset >= to - 1) break;
  }
  rd_kafka_consume_stop(rkt.get(), partition);
  if (!status.ok()) return status.error();
  return result;
}

}  // namespace fp::kafka
