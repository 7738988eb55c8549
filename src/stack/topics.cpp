#include <set>

#include "common/byte_size.h"
#include "common/kafka/admin.h"
#include "common/log.h"
#include "stack/kafka_budget.h"
#include "stack/provision.h"

namespace fp::stack {
namespace {

// The broker's own topics: compacted, sized by the number of groups and transactions, not ours to bound.
bool broker_internal(const std::string& name) {
  return name == "__consumer_offsets" || name == "__transaction_state" || name == "__share_group_state";
}

// Brings an existing topic's retention to `wanted`; logs what changed. Returns whether it altered anything.
Result<bool> align_retention(kafka::Admin& admin, const std::string& topic, const kafka::ConfigMap& wanted,
                             const kafka::ConfigMap& on_broker) {
  const auto changes = retention_drift(wanted, on_broker);
  if (changes.empty()) return false;
  FP_CHECK(admin.alter_topic_configs(topic, changes), "topics");
  for (const auto& [k, v] : changes) {
    const auto was = on_broker.find(k);
    log::info("topics", "topic {}: {} {} -> {}", topic, k, was == on_broker.end() ? "(unset)" : was->second,
              v);
  }
  return true;
}

// Topics nobody declared that delete old segments (one Debezium created for a newly captured table, one made
// by hand) share the undeclared part of the budget, split by partition. Compacted-only topics are left:
// Kafka Connect's own (connect_configs, connect_offsets, connect_statuses) must be compacted only — the
// worker refuses to start otherwise — and hold one record per key (connector, source partition, task), so
// their size follows the number of connectors, not time; retention.bytes would not apply to them anyway.
Result<int> bound_undeclared(kafka::Admin& admin, const KafkaBudget& budget,
                             const std::set<std::string>& declared) {
  struct Found {
    kafka::TopicInfo info;
    kafka::ConfigMap configs;
  };
  std::vector<Found> found;
  int partitions = 0;
  for (const auto& t : FP_TRY(admin.list_topics(true), "undeclared topics")) {
    if (declared.count(t.name) || broker_internal(t.name)) continue;
    auto desc = FP_TRY(admin.describe_topic(t.name), "undeclared topics");
    const auto policy = desc.configs.count("cleanup.policy") ? desc.configs.at("cleanup.policy") : "";
    if (!deletes_old_segments(policy)) {
      log::debug("topics", "topic {} is compacted only: its size follows its keys, no bytes bound", t.name);
      continue;
    }
    partitions += t.partitions;
    found.push_back(Found{t, std::move(desc.configs)});
  }
  if (found.empty()) return 0;
  int64_t share = budget.undeclared.topic_bytes / partitions / kMiB * kMiB;
  if (share < kMinPartitionShare) {
    log::warn("topics",
              "the undeclared topics' share of the Kafka budget ({}) is too small for their {} partition(s): "
              "each gets the minimum, {}; declare them in config/topics.json",
              format_byte_size(budget.undeclared.topic_bytes), partitions,
              format_byte_size(kMinPartitionShare));
    share = kMinPartitionShare;
  }
  const auto r = retention_for_share(share);
  const kafka::ConfigMap wanted = {{"retention.bytes", std::to_string(r.retention_bytes)},
                                   {"segment.bytes", std::to_string(r.segment_bytes)}};
  int altered = 0;
  for (const auto& f : found) {
    log::warn("topics", "topic {} is not declared in config/topics.json; bounded at {} a partition",
              f.info.name, format_byte_size(share));
    if (FP_TRY(align_retention(admin, f.info.name, wanted, f.configs), f.info.name)) ++altered;
  }
  return altered;
}

}  // namespace

kafka::ConfigMap retention_drift(const kafka::ConfigMap& wanted, const kafka::ConfigMap& on_broker) {
  kafka::ConfigMap out;
  for (const char* key : {"retention.ms", "retention.bytes", "segment.bytes"}) {
    const auto w = wanted.find(key);
    if (w == wanted.end()) continue;
    const auto b = on_broker.find(key);
    if (b == on_broker.end() || b->second != w->second) out[key] = w->second;
  }
  return out;
}

Status kafka_ready(const std::string& host, int port) {
  kafka::AdminOptions opts;
  opts.bootstrap = fmt::format("{}:{}", host, port);
  opts.timeout = std::chrono::milliseconds(3000);
  auto admin = kafka::Admin::create(opts);
  if (!admin) return std::move(admin).error().context("kafka");
  auto topics = (*admin)->list_topics(true);
  if (!topics) return transient_error("kafka metadata: {}", topics.error().message);
  return ok_status();
}

Status apply_topics(Context& ctx) {
  const auto budget = FP_TRY(kafka_budget(ctx), "topics");
  log::info("topics", "Kafka disk budget {} ({})", format_byte_size(budget.bytes), budget.origin);
  std::vector<kafka::TopicSpec> specs;
  std::set<std::string> declared;
  for (const auto& d : budget.file.topics) {
    kafka::TopicSpec s = d.spec;
    s.configs = budgeted_configs(d, budget_of(budget, d.spec.name));
    declared.insert(s.name);
    specs.push_back(std::move(s));
  }
  kafka::AdminOptions opts;
  opts.bootstrap = ctx.cfg.kafka_bootstrap;
  auto admin = FP_TRY(kafka::Admin::create(opts), "topics");
  const auto results = FP_TRY(admin->create_topics(specs), "create topics");
  int created = 0;
  int altered = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (r.created) {
      ++created;
      continue;
    }
    // Partitions are never altered here (shrinking them is impossible, growing them reshuffles keys);
    // differences are reported so an operator can decide.
    if (r.partition_mismatch)
      log::warn("topics", "topic {} exists with {} partitions; config/topics.json declares {}", r.name,
                r.partitions, specs[i].partitions);
    auto desc = admin->describe_topic(r.name);
    if (!desc) return std::move(desc).error().context("describe " + r.name);
    // Retention is safe to change on a live topic (the next retention check applies it), and a changed
    // budget or declaration must reach the topics: it is aligned. Other drift is reported only.
    if (FP_TRY(align_retention(*admin, r.name, specs[i].configs, desc->configs), r.name)) ++altered;
    const auto retention = retention_drift(specs[i].configs, {});
    for (const auto& [k, v] : specs[i].configs) {
      if (retention.count(k)) continue;
      auto it = desc->configs.find(k);
      if (it == desc->configs.end() || it->second != v)
        log::warn("topics", "topic {}: {}={} on the broker, {} declared", r.name, k,
                  it == desc->configs.end() ? "(unset)" : it->second, v);
    }
  }
  altered += FP_TRY(bound_undeclared(*admin, budget, declared), "topics");
  log::info("topics", "{} topic(s) declared, {} created, retention of {} aligned", specs.size(), created,
            altered);
  return ok_status();
}

}  // namespace fp::stack
