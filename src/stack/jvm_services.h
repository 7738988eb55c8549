// The three JVM engines of the stack, started natively from the jars scripts/fetch-jars.sh cached:
// the Kafka broker (KRaft, broker + controller in one process), the Kafka Connect worker with the
// Debezium PostgreSQL plugin, and S3Proxy (filesystem-backed, AWS SigV4 enforced).
#pragma once

#include <string>

#include "stack/component.h"

namespace fp::stack {

// A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, the form Kafka's StorageTool
// generates, never starting with '-'.
Result<std::string> new_cluster_id();

class KafkaBroker : public Component {
 public:
  explicit KafkaBroker(const Context& ctx);
  std::string name() const override { return "kafka"; }
  std::string address() const override { return fmt::format("{}:{}", host_, port_); }
  std::vector<int> ports() const override { return {port_, controller_port_}; }
  Status prepare(Context& ctx) override;
  Result<SpawnSpec> spawn_spec(Context& ctx) override;
  Status health(Context& ctx) override;
  // Unhealthy when a consumer group has lost messages (its committed offset fell below a partition's low
  // watermark); a warning when one is about to (kafka/retention_risk.h).
  Status condition(Context& ctx, std::vector<std::string>* warnings) override;
  Status provision(Context& ctx) override;

 private:
  std::filesystem::path config_file(const Context& ctx) const {
    return ctx.state() / "kafka" / "server.properties";
  }
  std::string host_;
  int port_;
  int controller_port_;
};

class KafkaConnect : public Component {
 public:
  explicit KafkaConnect(const Context& ctx);
  std::string name() const override { return "kafka-connect"; }
  std::string address() const override { return url_; }
  std::vector<int> ports() const override { return {port_}; }
  Status prepare(Context& ctx) override;
  Result<SpawnSpec> spawn_spec(Context& ctx) override;
  Status health(Context& ctx) override;
  Status condition(Context& ctx, std::vector<std::string>* warnings) override;
  Status provision(Context& ctx) override;
  std::chrono::seconds start_timeout() const override { return std::chrono::seconds(120); }

 private:
  std::string url_;
  int port_;
};

class S3Server : public Component {
 public:
  explicit S3Server(const Context& ctx);
  std::string name() const override { return "s3proxy"; }
  std::string address() const override { return url_; }
  std::vector<int> ports() const override { return {port_}; }
  Status prepare(Context& ctx) override;
  Result<SpawnSpec> spawn_spec(Context& ctx) override;
  Status health(Context& ctx) override;
  Status provision(Context& ctx) override;

 private:
  std::string url_;
  int port_;
};

}  // namespace fp::stack
