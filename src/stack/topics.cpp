#include <fstream>

#include "common/kafka/admin.h"
#include "common/log.h"
#include "stack/provision.h"

namespace fp::stack {
namespace {

using nlohmann::json;

Result<std::vector<kafka::TopicSpec>> read_topic_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return make_error("cannot read {}", file.string());
  auto doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("topics") || !doc["topics"].is_array())
    return invalid_input("{}: expected {{\"topics\": [...]}}", file.string());
  std::vector<kafka::TopicSpec> out;
  for (const auto& t : doc["topics"]) {
    kafka::TopicSpec s;
    if (!t.contains("name") || !t["name"].is_string() || t["name"].get<std::string>().empty())
      return invalid_input("{}: a topic without a name", file.string());
    s.name = t["name"];
    s.partitions = t.value("partitions", 1);
    s.replication_factor = t.value("replication_factor", 1);
    if (s.partitions < 1 || s.replication_factor < 1)
      return invalid_input("{}: topic {}: partitions and replication_factor must be >= 1", file.string(),
                           s.name);
    const json config = t.value("config", json::object());  // a named copy: items() must not outlive it
    for (const auto& [k, v] : config.items()) {
      if (!v.is_string())
        return invalid_input("{}: topic {}: config {} must be a string", file.string(), s.name, k);
      s.configs[k] = v.get<std::string>();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

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
  const auto specs = FP_TRY(read_topic_file(ctx.repo / "config" / "topics.json"), "topics");
  kafka::AdminOptions opts;
  opts.bootstrap = ctx.cfg.kafka_bootstrap;
  auto admin = FP_TRY(kafka::Admin::create(opts), "topics");
  const auto results = FP_TRY(admin->create_topics(specs), "create topics");
  int created = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (r.created) {
      ++created;
      continue;
    }
    // Existing topics are never altered here (shrinking partitions is impossible, growing them reshuffles
    // keys); differences are reported so an operator can decide.
    if (r.partition_mismatch)
      log::warn("topics", "topic {} exists with {} partitions; config/topics.json declares {}", r.name,
                r.partitions, specs[i].partitions);
    auto desc = admin->describe_topic(r.name);
    if (!desc) return std::move(desc).error().context("describe " + r.name);
    for (const auto& [k, v] : specs[i].configs) {
      auto it = desc->configs.find(k);
      if (it == desc->configs.end() || it->second != v)
        log::warn("topics", "topic {}: {}={} on the broker, {} declared", r.name, k,
                  it == desc->configs.end() ? "(unset)" : it->second, v);
    }
  }
  log::info("topics", "{} topic(s) declared, {} created", specs.size(), created);
  return ok_status();
}

}  // namespace fp::stack
