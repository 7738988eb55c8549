// Kafka client behaviour that needs no broker: option validation, the librdkafka property maps, error
// classification, and a producer/admin/consumer against an unreachable address failing within its timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "common/kafka/admin.h"
#include "common/kafka/client.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"

namespace fp::kafka {
namespace {

using std::chrono::steady_clock;
// Port 1 on loopback: nothing listens there, so every connection is refused at once.
constexpr const char* kUnreachable = "127.0.0.1:1";

ProducerOptions producer_options() {
  ProducerOptions o;
  o.bootstrap = kUnreachable;
  return o;
}

TEST(KafkaConfig, ProducerDefaultsAreIdempotentAndCompressed) {
  auto props = producer_config(producer_options());
  ASSERT_TRUE(props.ok()) << props.error().message;
  EXPECT_EQ(props->at("enable.idempotence"), "true");
  EXPECT_EQ(props->at("acks"), "all");
  EXPECT_EQ(props->at("compression.type"), "lz4");
  EXPECT_EQ(props->at("bootstrap.servers"), kUnreachable);
  EXPECT_EQ(props->at("linger.ms"), "20");
}

TEST(KafkaConfig, ProducerOptionsTranslate) {
  ProducerOptions o = producer_options();
  o.compression = Compression::kZstd;
  o.linger_ms = 50;
  o.batch_size_bytes = 65536;
  o.message_timeout_ms = 9000;
  o.extra = {{"queue.buffering.max.messages", "1000"}, {"acks", "-1"}};
  auto props = producer_config(o);
  ASSERT_TRUE(props.ok()) << props.error().message;
  EXPECT_EQ(props->at("compression.type"), "zstd");
  EXPECT_EQ(props->at("linger.ms"), "50");
  EXPECT_EQ(props->at("batch.size"), "65536");
  EXPECT_EQ(props->at("message.timeout.ms"), "9000");
  EXPECT_EQ(props->at("queue.buffering.max.messages"), "1000");
  EXPECT_EQ(props->at("acks"), "all");  // "-1" is the same setting, kept in its canonical form
}

TEST(KafkaConfig, ProducerRejectsWeakenedGuaranteesAndBadValues) {
  struct Case {
    const char* name;
    std::function<void(ProducerOptions&)> change;
  };
  std::vector<Case> cases = {
      {"idempotence off",
       [](ProducerOptions& o) {
         o.extra = {{"enable.idempotence", "false"}};
       }},
      {"acks=1",
       [](ProducerOptions& o) {
         o.extra = {{"acks", "1"}};
       }},
      {"request.required.acks=0",
       [](ProducerOptions& o) {
         o.extra = {{"request.required.acks", "0"}};
       }},
      {"negative linger", [](ProducerOptions& o) { o.linger_ms = -1; }},
      {"zero batch", [](ProducerOptions& o) { o.batch_size_bytes = 0; }},
      {"infinite message timeout", [](ProducerOptions& o) { o.message_timeout_ms = 0; }},
      {"empty bootstrap", [](ProducerOptions& o) { o.bootstrap = ""; }},
      {"bootstrap without port", [](ProducerOptions& o) { o.bootstrap = "localhost"; }},
      {"bootstrap bad port", [](ProducerOptions& o) { o.bootstrap = "localhost:9092,other:99999"; }},
  };
  for (const auto& c : cases) {
    ProducerOptions o = producer_options();
    c.change(o);
    auto props = producer_config(o);
    ASSERT_FALSE(props.ok()) << c.name;
    EXPECT_EQ(props.error().kind, Error::Kind::kInvalidInput) << c.name << ": " << props.error().message;
  }
}

TEST(KafkaConfig, BootstrapValidation) {
  EXPECT_TRUE(validate_bootstrap("localhost:9092").ok());
  EXPECT_TRUE(validate_bootstrap("a:1,b:65535").ok());
  EXPECT_TRUE(validate_bootstrap("[::1]:9092").ok());
  EXPECT_FALSE(validate_bootstrap("").ok());
  EXPECT_FALSE(validate_bootstrap("a:").ok());
  EXPECT_FALSE(validate_bootstrap(":9092").ok());
  EXPECT_FALSE(validate_bootstrap("a:9092,").ok());
  EXPECT_FALSE(validate_bootstrap("a:90x2").ok());
}

TEST(KafkaConfig, CompressionNamesRoundTrip) {
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                 Compression::kZstd}) {
    auto parsed = parse_compression(compression_name(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
  }
  auto bad = parse_compression("brotli");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, Error::Kind::kInvalidInput);
}

TEST(KafkaConfig, ConsumerDisablesAutoCommit) {
  ConsumerOptions o;
  o.bootstrap = kUnreachable;
  o.group_id = "g1";
  o.start_from = StartFrom::kEnd;
  auto props = consumer_config(o);
  ASSERT_TRUE(props.ok()) << props.error().message;
  EXPECT_EQ(props->at("enable.auto.commit"), "false");
  EXPECT_EQ(props->at("enable.auto.offset.store"), "false");
  EXPECT_EQ(props->at("auto.offset.reset"), "latest");
  EXPECT_EQ(props->at("group.id"), "g1");
  o.start_from = StartFrom::kBeginning;
  EXPECT_EQ(consumer_config(o)->at("auto.offset.reset"), "earliest");
}

TEST(KafkaConfig, ConsumerRejectsBadOptions) {
  ConsumerOptions o;
  o.bootstrap = kUnreachable;
  EXPECT_EQ(consumer_config(o).error().kind, Error::Kind::kInvalidInput);  // no group
  o.group_id = "g";
  o.extra = {{"enable.auto.commit", "true"}};
  EXPECT_EQ(consumer_config(o).error().kind, Error::Kind::kInvalidInput);
  o.extra = {};
  o.max_poll_interval_ms = 1000;
  o.session_timeout_ms = 5000;
  EXPECT_EQ(consumer_config(o).error().kind, Error::Kind::kInvalidInput);
}

TEST(KafkaConfig, UnknownPropertyFailsCreation) {
  ProducerOptions o = producer_options();
  o.extra = {{"no.such.property", "1"}};
  auto p = Producer::create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, Error::Kind::kInvalidInput);
  EXPECT_NE(p.error().message.find("no.such.property"), std::string::npos) << p.error().message;

  AdminOptions a;
  a.bootstrap = kUnreachable;
  a.extra = {{"socket.timeout.ms", "not-a-number"}};
  auto admin = Admin::create(a);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.error().kind, Error::Kind::kInvalidInput);
}

TEST(KafkaErrors, Classification) {
  for (auto e :
       {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS})
    EXPECT_EQ(classify(e), Error::Kind::kTransient) << rd_kafka_err2name(e);
  for (auto e : {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                 RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND})
    EXPECT_EQ(classify(e), Error::Kind::kNotFound) << rd_kafka_err2name(e);
  for (auto e : {RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR_INVALID_CONFIG,
                 RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE})
    EXPECT_EQ(classify(e), Error::Kind::kInvalidInput) << rd_kafka_err2name(e);
  // Fatal and authorisation errors, and idempotence violations, do not get better by retrying.
  for (auto e : {RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                 RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
                 RD_KAFKA_RESP_ERR__SSL})
    EXPECT_EQ(classify(e), Error::Kind::kPermanent) << rd_kafka_err2name(e);
}

TEST(KafkaErrors, MessageNamesTheCodeAndContext) {
  Error e = kafka_error(RD_KAFKA_RESP_ERR__TRANSPORT, "produce to t");
  EXPECT_EQ(e.kind, Error::Kind::kTransient);
  EXPECT_NE(e.message.find("produce to t: "), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("_TRANSPORT"), std::string::npos) << e.message;
  Error d = kafka_error(RD_KAFKA_RESP_ERR_INVALID_CONFIG, "create topic x", "retention.ms must be a number");
  EXPECT_EQ(d.message, "create topic x: retention.ms must be a number (INVALID_CONFIG)");
}

TEST(KafkaProducer, UnreachableBrokerFailsFlushWithinTimeout) {
  ProducerOptions o = producer_options();
  o.message_timeout_ms = 1500;
  std::vector<Delivery> reports;
  o.on_delivery = [&](const Delivery& d) { reports.push_back(d); };
  auto p = Producer::create(o);
  ASSERT_TRUE(p.ok()) << p.error().message;

  auto s1 = (*p)->produce("fp_unit_unreachable", "k1", "v1");
  auto s2 = (*p)->produce(Record{.topic = "fp_unit_unreachable",
                                 .key = std::nullopt,
                                 .value = std::nullopt,
                                 .headers = {{"h", "x"}},
                                 .partition = -1});
  ASSERT_TRUE(s1.ok()) << s1.error().message;
  ASSERT_TRUE(s2.ok()) << s2.error().message;
  EXPECT_NE(*s1, *s2);

  auto start = steady_clock::now();
  Status flushed = (*p)->flush(std::chrono::milliseconds(10000));
  auto took = steady_clock::now() - start;
  ASSERT_FALSE(flushed.ok());
  // Both messages time out after message_timeout_ms, well before the flush timeout.
  EXPECT_LT(took, std::chrono::milliseconds(8000));
  EXPECT_NE(flushed.error().message.find("_MSG_TIMED_OUT"), std::string::npos) << flushed.error().message;
  EXPECT_NE(flushed.error().message.find("2 message(s) failed"), std::string::npos)
      << flushed.error().message;
  EXPECT_TRUE(flushed.error().transient()) << flushed.error().message;

  ProducerStats st = (*p)->stats();
  EXPECT_EQ(st.enqueued, 2u);
  EXPECT_EQ(st.delivered, 0u);
  EXPECT_EQ(st.failed, 2u);
  EXPECT_EQ(st.outstanding, 0);
  ASSERT_TRUE(st.last_error.has_value());

  // Every message got exactly one report, carrying its sequence number.
  ASSERT_EQ(reports.size(), 2u);
  std::vector<uint64_t> seqs = {reports[0].sequence, reports[1].sequence};
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{std::min(*s1, *s2), std::max(*s1, *s2)}));
  for (const auto& r : reports) EXPECT_FALSE(r.delivered());

  // The failures were reported once; a later flush with nothing new succeeds.
  EXPECT_TRUE((*p)->flush(std::chrono::milliseconds(1000)).ok());
  EXPECT_TRUE((*p)->close().ok());
  auto after = (*p)->produce("t", "k", "v");
  EXPECT_FALSE(after.ok());
}

TEST(KafkaProducer, FlushTimeoutReportsUndelivered) {
  ProducerOptions o = producer_options();
  o.message_timeout_ms = 60000;  // longer than the flush below: the message is still pending
  auto p = Producer::create(o);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE((*p)->produce("fp_unit_pending", "k", "v").ok());
  auto start = steady_clock::now();
  Status flushed = (*p)->flush(std::chrono::milliseconds(500));
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(3000));
  ASSERT_FALSE(flushed.ok());
  EXPECT_TRUE(flushed.error().transient());
  EXPECT_NE(flushed.error().message.find("1 message(s) still undelivered"), std::string::npos)
      << flushed.error().message;
  EXPECT_EQ((*p)->stats().outstanding, 1);
  // close() flushes too, so it reports the message it could not deliver.
  Status closed = (*p)->close(std::chrono::milliseconds(200));
  EXPECT_FALSE(closed.ok());
}

TEST(KafkaProducer, FullQueueIsWaitedOutThenReported) {
  ProducerOptions o = producer_options();
  o.extra = {{"queue.buffering.max.messages", "2"}};
  o.enqueue_timeout = std::chrono::milliseconds(300);
  auto p = Producer::create(o);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE((*p)->produce("fp_unit_full", "k", "1").ok());
  ASSERT_TRUE((*p)->produce("fp_unit_full", "k", "2").ok());
  auto start = steady_clock::now();
  auto third = (*p)->produce("fp_unit_full", "k", "3");
  auto waited = steady_clock::now() - start;
  ASSERT_FALSE(third.ok());
  EXPECT_GE(waited, std::chrono::milliseconds(250));  // it waited for room instead of failing at once
  EXPECT_TRUE(third.error().transient());
  EXPECT_NE(third.error().message.find("_QUEUE_FULL"), std::string::npos) << third.error().message;
  EXPECT_EQ((*p)->stats().enqueued, 2u);  // the rejected one was not counted as enqueued
  EXPECT_FALSE((*p)->close(std::chrono::milliseconds(100)).ok());
}

TEST(KafkaAdmin, UnreachableBrokerTimesOut) {
  AdminOptions o;
  o.bootstrap = kUnreachable;
  o.timeout = std::chrono::milliseconds(1000);
  auto admin = Admin::create(o);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  auto start = steady_clock::now();
  auto topics = (*admin)->list_topics();
  auto created = (*admin)->create_topic(TopicSpec{"fp_unit_never", 1, 1, {}});
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(8000));
  ASSERT_FALSE(topics.ok());
  EXPECT_TRUE(topics.error().transient()) << topics.error().message;
  ASSERT_FALSE(created.ok());
  EXPECT_TRUE(created.error().transient()) << created.error().message;
}

TEST(KafkaConsumer, PollOnUnreachableBrokerReturnsEmptyWithinTimeout) {
  ConsumerOptions o;
  o.bootstrap = kUnreachable;
  o.group_id = "fp_unit_group";
  auto c = Consumer::create(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE((*c)->subscribe({"^fp_unit\\..*"}).ok());
  EXPECT_FALSE((*c)->subscribe({}).ok());
  auto start = steady_clock::now();
  auto batch = (*c)->poll(std::chrono::milliseconds(500));
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(3000));
  // Connection trouble is retried inside librdkafka (and logged); a poll sees no messages, or a transient
  // error.
  if (batch.ok())
    EXPECT_TRUE(batch->empty());
  else
    EXPECT_TRUE(batch.error().transient()) << batch.error().message;
  EXPECT_EQ((*c)->pending_commits(), 0u);
  start = steady_clock::now();
  Status closed = (*c)->close();
  EXPECT_TRUE(closed.ok()) << closed.error().message;
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(5000));
  EXPECT_FALSE((*c)->poll(std::chrono::milliseconds(10)).ok());  // closed
}

}  // namespace
}  // namespace fp::kafka
