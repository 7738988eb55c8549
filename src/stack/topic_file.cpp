#include "stack/topic_file.h"

#include <fstream>

namespace fp::stack {

using nlohmann::json;

bool deletes_old_segments(const std::string& cleanup_policy) {
  // "delete" is Kafka's default when the topic sets no policy.
  return cleanup_policy.empty() || cleanup_policy.find("delete") != std::string::npos;
}

Result<TopicFile> parse_topic_file(const json& doc, const std::string& origin) {
  if (!doc.is_object() || !doc.contains("topics") || !doc["topics"].is_array())
    return invalid_input("{}: expected {{\"topics\": [...]}}", origin);
  TopicFile out;
  const json undeclared = doc.value("undeclared_disk_share", json(0));
  if (!undeclared.is_number() || undeclared.get<double>() <= 0)
    return invalid_input("{}: undeclared_disk_share must be a number above 0", origin);
  out.undeclared_disk_share = undeclared.get<double>();
  for (const auto& t : doc["topics"]) {
    DeclaredTopic d;
    kafka::TopicSpec& s = d.spec;
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() ||
        t["name"].get<std::string>().empty())
      return invalid_input("{}: a topic without a name", origin);
    s.name = t["name"];
    s.partitions = t.value("partitions", 1);
    s.replication_factor = t.value("replication_factor", 1);
    if (s.partitions < 1 || s.replication_factor < 1)
      return invalid_input("{}: topic {}: partitions and replication_factor must be >= 1", origin, s.name);
    const json config = t.value("config", json::object());  // a named copy: items() must not outlive it
    for (const auto& [k, v] : config.items()) {
      if (!v.is_string()) return invalid_input("{}: topic {}: config {} must be a string", origin, s.name, k);
      for (const char* derived : kDerivedTopicConfigs)
        if (k == derived)
          return invalid_input("{}: topic {}: {} is derived from the disk budget (set disk_share instead)",
                               origin, s.name, k);
      s.configs[k] = v.get<std::string>();
    }
    const json share = t.value("disk_share", json(0));
    if (!share.is_number() || share.get<double>() < 0)
      return invalid_input("{}: topic {}: disk_share must be a number >= 0", origin, s.name);
    d.disk_share = share.get<double>();
    const auto policy = s.configs.count("cleanup.policy") ? s.configs.at("cleanup.policy") : "";
    // Every topic that deletes by time must be bounded by size too: that is the point of the budget.
    if (deletes_old_segments(policy) && d.disk_share <= 0)
      return invalid_input("{}: topic {}: needs a disk_share above 0 (its cleanup.policy deletes)", origin,
                           s.name);
    out.topics.push_back(std::move(d));
  }
  return out;
}

Result<TopicFile> read_topic_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return make_error("cannot read {}", file.string());
  const auto doc = json::parse(in, nullptr, false);
  if (doc.is_discarded()) return invalid_input("{}: not JSON", file.string());
  return parse_topic_file(doc, file.string());
}

}  // namespace fp::stack
