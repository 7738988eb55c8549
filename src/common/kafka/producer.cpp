#include "common/kafka/producer.h"

#include <array>
#include <chrono>
#include <utility>

#include "common/log.h"

namespace fp::kafka {

namespace {
constexpr std::string_view kComponent = "kafka";
using Clock = std::chrono::steady_clock;

// Properties that carry the idempotence guarantee; `extra` may restate but not change them.
const ConfigMap kGuarantees = {{"enable.idempotence", "true"}, {"acks", "all"}};

// Each codec with its librdkafka name, for both directions.
constexpr std::array<std::pair<Compression, std::string_view>, 5> kCompressions = {
    {{Compression::kNone, "none"},
     {Compression::kGzip, "gzip"},
     {Compression::kSnappy, "snappy"},
     {Compression::kLz4, "lz4"},
     {Compression::kZstd, "zstd"}}};
}  // namespace

Result<Compression> parse_compression(std::string_view name) {
  for (const auto& [c, n] : kCompressions)
    if (n == name) return c;
  return invalid_input("unknown compression '{}' (none, gzip, snappy, lz4, zstd)", name);
}

std::string_view compression_name(Compression c) {
  for (const auto& [value, n] : kCompressions)
    if (value == c) return n;
  return "none";
}

Result<ConfigMap> producer_config(const ProducerOptions& o) {
  FP_CHECK(validate_bootstrap(o.bootstrap), "producer options");
  if (o.linger_ms < 0 || o.linger_ms > 900000)
    return invalid_input("producer options: linger_ms {} outside 0..900000", o.linger_ms);
  if (o.batch_size_bytes < 1) return invalid_input("producer options: batch_size_bytes must be positive");
  // 0 would mean "retry forever", and every call here has a bound.
  if (o.message_timeout_ms < 1)
    return invalid_input("producer options: message_timeout_ms must be positive (0 means infinite)");
  if (o.enqueue_timeout.count() < 0) return invalid_input("producer options: enqueue_timeout is negative");
  ConfigMap props = {
      {"bootstrap.servers", o.bootstrap},
      {"client.id", o.client_id},
      {"linger.ms", std::to_string(o.linger_ms)},
      {"batch.size", std::to_string(o.batch_size_bytes)},
      {"compression.type", std::string(compression_name(o.compression))},
      {"message.timeout.ms", std::to_string(o.message_timeout_ms)},
  };
  props.insert(kGuarantees.begin(), kGuarantees.end());
  for (const auto& [name, value] : o.extra) {
    std::string canonical = name == "request.required.acks" ? "acks" : name;
    if (auto it = kGuarantees.find(canonical);
        it != kGuarantees.end() && value != it->second && !(canonical == "acks" && value == "-1"))
      return invalid_input("producer options: {}={} would break the idempotence guarantee", name, value);
    if (canonical == "acks") continue;
    props[name] = value;
  }
  return props;
}

// librdkafka callbacks; they outlive the handle (destroyed after it) and forward to the Producer.
class Producer::Callbacks : public RoutingEventCb, public RdKafka::DeliveryReportCb {
 public:
  explicit Callbacks(Producer* owner) : owner_(owner) {}

  void dr_cb(RdKafka::Message& m) override {
    Delivery d;
    d.sequence = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m.msg_opaque()));
    d.topic = m.topic_name();
    d.partition = m.partition();
    d.offset = m.offset();
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      auto err = static_cast<rd_kafka_resp_err_t>(m.err());
      Error e = kafka_error(err, fmt::format("deliver message {} to {}", d.sequence, d.topic), m.errstr());
      // A message timeout alone does not say why; the last broker error usually does (refused, DNS...).
      if (auto broker = last_broker_error(); broker && err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        e.message += fmt::format(" [last broker error: {}]", broker->message);
      d.error = std::move(e);
    }
    owner_->on_report(std::move(d));
  }

  std::optional<Error> last_broker_error() const {
    std::lock_guard lock(mu_);
    return last_broker_error_;
  }

 protected:
  void on_fatal(const Error& e) override {
    std::lock_guard lock(owner_->mu_);
    if (!owner_->fatal_) owner_->fatal_ = e;
  }
  void on_error(const Error& e) override {
    std::lock_guard lock(mu_);
    last_broker_error_ = e;
  }

 private:
  Producer* owner_;
  mutable std::mutex mu_;
  std::optional<Error> last_broker_error_;
};

Result<std::unique_ptr<Producer>> Producer::create(ProducerOptions options) {
  ConfigMap props = FP_TRY(producer_config(options), "create producer");
  auto conf = FP_TRY(make_cpp_conf(props), "create producer");
  std::unique_ptr<Producer> p(new Producer());
  p->options_ = std::move(options);
  p->callbacks_ = std::make_unique<Callbacks>(p.get());
  std::string errstr;
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(p->callbacks_.get()), errstr) !=
          RdKafka::Conf::CONF_OK ||
      conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(p->callbacks_.get()), errstr) !=
          RdKafka::Conf::CONF_OK)
    return make_error("create producer: set callbacks: {}", errstr);
  p->handle_.reset(RdKafka::Producer::create(conf.get(), errstr));
  if (!p->handle_) return invalid_input("create producer: {}", errstr);
  p->callbacks_->set_handle(p->handle_.get());
  log::debug(kComponent, "producer {} created for {} (compression {}, linger {} ms)", p->handle_->name(),
             p->options_.bootstrap, compression_name(p->options_.compression), p->options_.linger_ms);
  return p;
}

Producer::~Producer() {
  if (!handle_) return;
  if (auto s = close(Millis(5000)); !s.ok())
    log::error(kComponent, "producer destroyed without close(): {}", s.error().message);
}

void Producer::on_report(Delivery d) {
  if (d.delivered()) {
    delivered_.fetch_add(1);
  } else {
    failed_.fetch_add(1);
    std::lock_guard lock(mu_);
    last_error_ = *d.error;
  }
  if (!options_.on_delivery) return;
  // An exception must not unwind through librdkafka's C frames; it is reported instead.
  try {
    options_.on_delivery(d);
  } catch (const std::exception& e) {
    log::error(kComponent, "delivery callback threw for message {}: {}", d.sequence, e.what());
  } catch (...) {
    log::error(kComponent, "delivery callback threw a non-standard exception for message {}", d.sequence);
  }
}

Status Producer::check_fatal() const {
  std::lock_guard lock(mu_);
  if (fatal_) return *fatal_;
  return ok_status();
}

Result<uint64_t> Producer::produce(std::string_view topic, std::string_view key, std::string_view value) {
  return produce(Record{.topic = topic, .key = key, .value = value, .headers = {}, .partition = -1});
}

Result<uint64_t> Producer::produce(const Record& r) {
  auto what = [&] { return fmt::format("produce to {}", r.topic); };
  if (!handle_) return make_error("{}: producer is closed", what());
  FP_CHECK(check_fatal(), what());
  if (r.topic.empty()) return invalid_input("produce: empty topic name");

  // Ownership of the headers passes to librdkafka only when produce succeeds.
  std::unique_ptr<RdKafka::Headers> headers;
  if (!r.headers.empty()) {
    headers.reset(RdKafka::Headers::create());
    for (const auto& h : r.headers) {
      auto err =
          h.value ? headers->add(h.key, h.value->data(), h.value->size()) : headers->add(h.key, nullptr, 0);
      if (err != RdKafka::ERR_NO_ERROR)
        return kafka_error(static_cast<rd_kafka_resp_err_t>(err),
                           fmt::format("{}: header {}", what(), h.key));
    }
  }
  uint64_t seq = next_sequence_.fetch_add(1);
  std::string topic(r.topic);
  // With RK_MSG_COPY librdkafka copies the payload before returning and never writes through the pointer.
  void* payload = r.value ? const_cast<char*>(r.value->data()) : nullptr;
  const void* key = r.key ? r.key->data() : nullptr;
  auto deadline = Clock::now() + options_.enqueue_timeout;
  for (;;) {
    auto err = handle_->produce(topic, r.partition, RdKafka::Producer::RK_MSG_COPY, payload,
                                r.value ? r.value->size() : 0, key, r.key ? r.key->size() : 0, 0,
                                headers.get(), reinterpret_cast<void*>(static_cast<uintptr_t>(seq)));
    if (err == RdKafka::ERR_NO_ERROR) {
      headers.release();  // NOLINT(bugprone-unused-return-value): now owned by librdkafka
      enqueued_.fetch_add(1);
      return seq;
    }
    if (err == RdKafka::ERR__FATAL) {
      FP_CHECK(check_fatal(), what());
      std::string cause;
      auto code = static_cast<rd_kafka_resp_err_t>(handle_->fatal_error(cause));
      return Error{kafka_error(code, what(), cause).message, Error::Kind::kPermanent};
    }
    // The local queue is full: serve delivery reports (which frees space) and try again until the deadline.
    if (err == RdKafka::ERR__QUEUE_FULL && Clock::now() < deadline) {
      handle_->poll(50);
      continue;
    }
    Error e = kafka_error(static_cast<rd_kafka_resp_err_t>(err), what());
    if (err == RdKafka::ERR__QUEUE_FULL)
      e = std::move(e).context(fmt::format("queue still full after {} ms", options_.enqueue_timeout.count()));
    return e;
  }
}

int Producer::poll(Millis timeout) {
  if (!handle_) return 0;
  return handle_->poll(static_cast<int>(timeout.count()));
}

Status Producer::flush(Millis timeout) {
  if (!handle_) return make_error("flush: producer is closed");
  auto err = handle_->flush(static_cast<int>(timeout.count()));
  FP_CHECK(check_fatal(), "flush");
  // Count undelivered messages from our own ledger: outq_len() also counts queued events (an error event
  // for a down broker, say), and flush() times out on those too, though no message is at stake.
  ProducerStats now = stats();
  int remaining = now.outstanding;
  if (remaining == 0 && err != RdKafka::ERR_NO_ERROR) handle_->poll(0);  // serve the leftover events
  uint64_t failed = now.failed;
  uint64_t new_failures = failed - failed_at_last_flush_;
  failed_at_last_flush_ = failed;
  std::optional<Error> last = now.last_error;
  if (remaining > 0) {
    std::string why;
    if (auto broker = callbacks_->last_broker_error())
      why = fmt::format("; last broker error: {}", broker->message);
    return transient_error("flush: {} message(s) still undelivered after {} ms (delivered {}, failed {}){}",
                           remaining, timeout.count(), delivered_.load(), failed, why);
  }
  if (new_failures > 0) {
    Error e = *last;
    return std::move(e).context(fmt::format(
        "flush: {} message(s) failed delivery since the last flush (delivered {}, failed {}); last",
        new_failures, delivered_.load(), failed));
  }
  return ok_status();
}

Status Producer::close(Millis timeout) {
  if (!handle_) return ok_status();
  Status s = flush(timeout);
  log::debug(kComponent, "closing producer {} (delivered {}, failed {})", handle_->name(), delivered_.load(),
             failed_.load());
  handle_.reset();
  if (!s.ok()) return std::move(s).error().context("close producer");
  return ok_status();
}

ProducerStats Producer::stats() const {
  ProducerStats s;
  s.enqueued = enqueued_.load();
  s.delivered = delivered_.load();
  s.failed = failed_.load();
  s.outstanding = static_cast<int>(s.enqueued - s.delivered - s.failed);
  std::lock_guard lock(mu_);
  s.last_error = last_error_;
  return s;
}

std::optional<Error> Producer::fatal_error() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

}  // namespace fp::kafka
