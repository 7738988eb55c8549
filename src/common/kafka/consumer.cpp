#include "common/kafka/consumer.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"

namespace fp::kafka {

namespace {
constexpr std::string_view kComponent = "kafka";
using Clock = std::chrono::steady_clock;

// Owns the TopicPartition pointers the C++ API hands out or expects.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
};

Message convert(RdKafka::Message& m) {
  Message out;
  out.topic = m.topic_name();
  out.partition = m.partition();
  out.offset = m.offset();
  if (m.key_pointer() != nullptr) out.key.emplace(static_cast<const char*>(m.key_pointer()), m.key_len());
  if (m.payload() != nullptr) out.value.emplace(static_cast<const char*>(m.payload()), m.len());
  RdKafka::MessageTimestamp ts = m.timestamp();
  if (ts.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) {
    out.timestamp_ms = ts.timestamp;
    out.log_append_time = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_LOG_APPEND_TIME;
  }
  if (RdKafka::Headers* hs = m.headers(); hs != nullptr) {  // owned by the message
    for (const auto& h : hs->get_all()) {
      Header header{h.key(), std::nullopt};
      if (h.value() != nullptr) header.value.emplace(static_cast<const char*>(h.value()), h.value_size());
      out.headers.push_back(std::move(header));
    }
  }
  return out;
}
}  // namespace

Result<ConfigMap> consumer_config(const ConsumerOptions& o) {
  FP_CHECK(validate_bootstrap(o.bootstrap), "consumer options");
  if (o.group_id.empty()) return invalid_input("consumer options: group_id is empty");
  if (o.session_timeout_ms < 1) return invalid_input("consumer options: session_timeout_ms must be positive");
  if (o.max_poll_interval_ms < o.session_timeout_ms)
    return invalid_input("consumer options: max_poll_interval_ms ({}) below session_timeout_ms ({})",
                         o.max_poll_interval_ms, o.session_timeout_ms);
  ConfigMap props = {
      {"bootstrap.servers", o.bootstrap},
      {"group.id", o.group_id},
      {"client.id", o.client_id},
      // Offsets move only when the caller says a message is processed (store + commit).
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", o.start_from == StartFrom::kBeginning ? "earliest" : "latest"},
      {"session.timeout.ms", std::to_string(o.session_timeout_ms)},
      {"max.poll.interval.ms", std::to_string(o.max_poll_interval_ms)},
  };
  for (const auto& [name, value] : o.extra) {
    if ((name == "enable.auto.commit" || name == "enable.auto.offset.store") && value != "false")
      return invalid_input("consumer options: {}={} would commit offsets of unprocessed messages", name,
                           value);
    props[name] = value;
  }
  return props;
}

class Consumer::Callbacks : public RoutingEventCb, public RdKafka::RebalanceCb {
 public:
  explicit Callbacks(Consumer* owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    owner_->on_rebalance(c, err, partitions);
  }

 private:
  Consumer* owner_;
};

Result<std::unique_ptr<Consumer>> Consumer::create(ConsumerOptions options) {
  ConfigMap props = FP_TRY(consumer_config(options), "create consumer");
  auto conf = FP_TRY(make_cpp_conf(props), "create consumer");
  std::unique_ptr<Consumer> c(new Consumer());
  c->options_ = std::move(options);
  c->callbacks_ = std::make_unique<Callbacks>(c.get());
  std::string errstr;
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(c->callbacks_.get()), errstr) !=
          RdKafka::Conf::CONF_OK ||
      conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(c->callbacks_.get()), errstr) !=
          RdKafka::Conf::CONF_OK)
    return make_error("create consumer: set callbacks: {}", errstr);
  c->handle_.reset(RdKafka::KafkaConsumer::create(conf.get(), errstr));
  if (!c->handle_) return invalid_input("create consumer: {}", errstr);
  c->callbacks_->set_handle(c->handle_.get());
  return c;
}

Consumer::~Consumer() {
  if (!handle_) return;
  if (auto s = close(); !s.ok())
    log::error(kComponent, "consumer destroyed without close(): {}", s.error().message);
}

Status Consumer::subscribe(const std::vector<std::string>& topics) {
  if (!handle_) return make_error("subscribe: consumer is closed");
  if (topics.empty()) return invalid_input("subscribe: no topics");
  if (std::any_of(topics.begin(), topics.end(), [](const std::string& t) { return t.empty(); }))
    return invalid_input("subscribe: empty topic name");
  auto err = handle_->subscribe(topics);
  if (err != RdKafka::ERR_NO_ERROR)
    return kafka_error(static_cast<rd_kafka_resp_err_t>(err),
                       fmt::format("subscribe to {}", fmt::join(topics, ",")));
  log::debug(kComponent, "group {} subscribed to {}", options_.group_id, fmt::join(topics, ","));
  return ok_status();
}

Result<std::vector<Message>> Consumer::poll(Millis timeout, size_t max_messages) {
  if (!handle_) return make_error("poll: consumer is closed");
  if (deferred_error_) {
    Error e = std::move(*deferred_error_);
    deferred_error_.reset();
    return e;
  }
  std::vector<Message> out;
  auto deadline = Clock::now() + timeout;
  while (out.size() < max_messages) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    int wait = out.empty() ? static_cast<int>(std::max<int64_t>(left, 0)) : 0;
    std::unique_ptr<RdKafka::Message> m(handle_->consume(wait));
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR:
        out.push_back(convert(*m));
        break;
      case RdKafka::ERR__PARTITION_EOF:  // reaching the end of a partition is a state, not a failure
      case RdKafka::ERR__TIMED_OUT:
        if (!out.empty() || wait == 0) return out;
        break;  // consume() may return early (e.g. after a rebalance); wait out the rest
      default: {
        Error e = kafka_error(static_cast<rd_kafka_resp_err_t>(m->err()), "poll", m->errstr());
        if (m->err() == RdKafka::ERR__FATAL) e.kind = Error::Kind::kPermanent;
        if (out.empty()) return e;
        deferred_error_ = std::move(e);
        return out;
      }
    }
    // An error stashed by the rebalance callback (inside consume) ends an empty wait early.
    if (deferred_error_ && out.empty()) {
      Error e = std::move(*deferred_error_);
      deferred_error_.reset();
      return e;
    }
  }
  return out;
}

void Consumer::store(const Message& m) {
  int64_t& next = pending_[{m.topic, m.partition}];
  next = std::max(next, m.offset + 1);
}

void Consumer::store(const std::vector<Message>& batch) {
  for (const auto& m : batch) store(m);
}

Status Consumer::commit() {
  if (!handle_) return make_error("commit: consumer is closed");
  return commit_partitions(nullptr);
}

Status Consumer::commit_partitions(const std::vector<PartitionKey>* only) {
  PartitionList list;
  std::vector<PartitionKey> keys;
  for (const auto& [key, next] : pending_) {
    if (only && std::find(only->begin(), only->end(), key) == only->end()) continue;
    list.items.push_back(RdKafka::TopicPartition::create(key.first, key.second, next));
    keys.push_back(key);
  }
  if (list.items.empty()) return ok_status();
  auto err = handle_->commitSync(list.items);
  if (err != RdKafka::ERR_NO_ERROR)
    return kafka_error(static_cast<rd_kafka_resp_err_t>(err),
                       fmt::format("commit {} partition(s) for group {}", keys.size(), options_.group_id));
  for (const auto* tp : list.items) {
    if (tp->err() != RdKafka::ERR_NO_ERROR)
      return kafka_error(static_cast<rd_kafka_resp_err_t>(tp->err()),
                         fmt::format("commit {}[{}]@{} for group {}", tp->topic(), tp->partition(),
                                     tp->offset(), options_.group_id));
  }
  for (const auto& key : keys) pending_.erase(key);
  return ok_status();
}

std::vector<RdKafka::TopicPartition*> Consumer::pin_start(RdKafka::KafkaConsumer* c,
                                                          std::vector<RdKafka::TopicPartition*>& partitions) {
  constexpr int kTimeoutMs = 5000;
  std::vector<RdKafka::TopicPartition*> pinned;
  if (auto err = c->committed(partitions, kTimeoutMs); err != RdKafka::ERR_NO_ERROR) {
    log::warn(kComponent, "group {}: reading committed offsets failed: {}", options_.group_id,
              RdKafka::err2str(err));
    for (auto* tp : partitions) tp->set_offset(RdKafka::Topic::OFFSET_INVALID);
    return pinned;
  }
  for (auto* tp : partitions) {
    if (tp->offset() >= 0) continue;  // the group's own committed position
    if (auto it = options_.start_offsets.find({tp->topic(), tp->partition()});
        it != options_.start_offsets.end()) {
      tp->set_offset(it->second);
      pinned.push_back(tp);
      continue;
    }
    if (options_.start_from != StartFrom::kEnd) {
      tp->set_offset(RdKafka::Topic::OFFSET_INVALID);  // auto.offset.reset (earliest) decides
      continue;
    }
    int64_t low = 0;
    int64_t high = 0;
    auto err = c->query_watermark_offsets(tp->topic(), tp->partition(), &low, &high, kTimeoutMs);
    if (err != RdKafka::ERR_NO_ERROR) {
      log::warn(kComponent, "group {}: end of {}[{}] unknown ({}); auto.offset.reset decides",
                options_.group_id, tp->topic(), tp->partition(), RdKafka::err2str(err));
      tp->set_offset(RdKafka::Topic::OFFSET_INVALID);
      continue;
    }
    tp->set_offset(high);
    pinned.push_back(tp);
  }
  return pinned;
}

void Consumer::on_rebalance(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                            std::vector<RdKafka::TopicPartition*>& partitions) {
  bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    log::info(kComponent, "group {}: assigned {} partition(s)", options_.group_id, partitions.size());
    std::vector<RdKafka::TopicPartition*> pinned;
    if (options_.start_from == StartFrom::kEnd || !options_.start_offsets.empty())
      pinned = pin_start(c, partitions);
    RdKafka::Error* e = nullptr;
    RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
    if (cooperative)
      e = c->incremental_assign(partitions);
    else
      code = c->assign(partitions);
    if (e) {
      code = e->code();
      delete e;
    }
    if (code != RdKafka::ERR_NO_ERROR) {
      deferred_error_ = kafka_error(static_cast<rd_kafka_resp_err_t>(code), "rebalance: assign");
      return;
    }
    if (!pinned.empty()) {
      // Best effort: without it the group still starts at the end, only its lag reads wrong until it
      // commits there itself.
      auto cerr = c->commitSync(pinned);
      if (cerr != RdKafka::ERR_NO_ERROR)
        log::warn(kComponent, "group {}: committing the start offsets failed: {}", options_.group_id,
                  RdKafka::err2str(cerr));
    }
    return;
  }
  // Revocation (or a rebalance error, which also means giving up the assignment): commit what was
  // processed on these partitions first, or their next owner would receive those messages again.
  std::vector<PartitionKey> revoked;
  for (const auto* tp : partitions) revoked.emplace_back(tp->topic(), tp->partition());
  log::info(kComponent, "group {}: {} {} partition(s)", options_.group_id,
            err == RdKafka::ERR__REVOKE_PARTITIONS ? "revoking" : "rebalance error, dropping",
            revoked.size());
  if (Status s = commit_partitions(&revoked); !s.ok()) {
    log::error(kComponent, "group {}: commit before revocation failed: {}", options_.group_id,
               s.error().message);
    if (!deferred_error_) deferred_error_ = std::move(s).error().context("rebalance");
  }
  // Offsets that could not be committed now belong to the next owner; drop them so they are not committed
  // later over that owner's progress.
  for (const auto& key : revoked) pending_.erase(key);
  RdKafka::Error* e = nullptr;
  RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
  if (cooperative)
    e = c->incremental_unassign(partitions);
  else
    code = c->unassign();
  if (e) {
    code = e->code();
    delete e;
  }
  if (code != RdKafka::ERR_NO_ERROR && !deferred_error_)
    deferred_error_ = kafka_error(static_cast<rd_kafka_resp_err_t>(code), "rebalance: unassign");
}

Status Consumer::close() {
  if (!handle_) return ok_status();
  Status committed = commit();
  // close() leaves the group; the revocation it triggers runs on_rebalance, which commits anything left.
  auto err = handle_->close();
  handle_.reset();
  if (!committed.ok()) return std::move(committed).error().context("close consumer");
  if (err != RdKafka::ERR_NO_ERROR)
    return kafka_error(static_cast<rd_kafka_resp_err_t>(err), "close consumer");
  if (deferred_error_) {
    Error e = std::move(*deferred_error_);
    deferred_error_.reset();
    return std::move(e).context("close consumer");
  }
  return ok_status();
}

Result<std::vector<std::pair<std::string, int32_t>>> Consumer::assignment() {
  if (!handle_) return make_error("assignment: consumer is closed");
  PartitionList list;
  auto err = handle_->assignment(list.items);
  if (err != RdKafka::ERR_NO_ERROR) return kafka_error(static_cast<rd_kafka_resp_err_t>(err), "assignment");
  std::vector<std::pair<std::string, int32_t>> out;
  for (const auto* tp : list.items) out.emplace_back(tp->topic(), tp->partition());
  return out;
}

}  // namespace fp::kafka
