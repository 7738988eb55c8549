#include "generator/kafka_sink.h"

#include <charconv>

#include "common/kafka/admin.h"
#include "common/retry.h"

namespace fp::gen {

Result<std::unique_ptr<KafkaSink>> KafkaSink::create(KafkaSinkOptions options) {
  auto sink = std::make_unique<KafkaSink>();
  sink->options_ = options;
  const std::string where = sink->endpoint();

  kafka::AdminOptions ao;
  ao.bootstrap = options.bootstrap;
  ao.timeout = std::chrono::milliseconds(5000);
  auto admin = kafka::Admin::create(ao);
  if (!admin.ok()) return std::move(admin).error().context(fmt::format("kafka sink {}", where));
  auto info =
      retry<kafka::TopicInfo>(fmt::format("look up topic at {}", where),
                              Backoff{std::chrono::milliseconds(250), std::chrono::milliseconds(2000), 5},
                              [&]() -> Result<kafka::TopicInfo> {
                                auto r = (*admin)->topic_info(options.topic);
                                if (!r.ok() && r.error().kind == Error::Kind::kNotFound)
                                  return std::move(r).error().context(
                                      "the topic does not exist (create it with `fleetpipe topics apply`)");
                                return r;
                              });
  if (!info.ok()) return std::move(info).error().context(fmt::format("kafka sink {}", where));

  kafka::ProducerOptions po;
  po.bootstrap = options.bootstrap;
  po.client_id = "fleetpipe-generate";
  po.linger_ms = 10;
  po.message_timeout_ms = options.delivery_timeout_ms;
  po.extra = {{"queue.buffering.max.messages", "1000000"}, {"queue.buffering.max.kbytes", "16384"}};
  auto p = kafka::Producer::create(std::move(po));
  if (!p.ok()) return std::move(p).error().context(fmt::format("kafka sink {}", where));
  sink->producer_ = std::move(*p);
  return sink;
}

Status KafkaSink::produce(const Batch& batch) {
  char key[16];
  for (size_t i = 0; i < batch.keys.size(); ++i) {
    auto r = std::to_chars(key, key + sizeof key, batch.keys[i]);
    auto seq = producer_->produce(options_.topic, std::string_view(key, static_cast<size_t>(r.ptr - key)),
                                  batch.json_at(i));
    if (!seq.ok()) return std::move(seq).error().context(endpoint());
  }
  producer_->poll();
  return ok_status();
}

Status KafkaSink::flush() {
  auto s = producer_->flush(std::chrono::milliseconds(options_.delivery_timeout_ms + 5000));
  if (!s.ok()) return std::move(s).error().context(fmt::format("deliver to {}", endpoint()));
  return ok_status();
}

Status KafkaSink::close() {
  if (!producer_) return ok_status();
  auto s = producer_->close(std::chrono::milliseconds(options_.delivery_timeout_ms));
  if (!s.ok()) return std::move(s).error().context(endpoint());
  return ok_status();
}

}  // namespace fp::gen
