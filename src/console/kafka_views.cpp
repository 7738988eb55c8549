// Topics, offsets, message tails and consumer-group lag, from the broker's admin API and a group-less
// short-lived consumer (common/kafka/peek.h) that cannot move anyone's offsets.
#include <map>

#include "common/kafka/peek.h"
#include "console/format.h"
#include "console/views.h"

namespace fp::console {

namespace {

constexpr size_t kMaxPayloadBytes = 4096;

nlohmann::json partitions_json(const std::vector<kafka::Watermark>& marks, int64_t* total) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& w : marks) {
    arr.push_back({{"partition", w.partition},
                   {"low", w.low},
                   {"high", w.high},
                   {"messages", std::max<int64_t>(0, w.high - w.low)}});
    *total += std::max<int64_t>(0, w.high - w.low);
  }
  return arr;
}

}  // namespace

nlohmann::json topics(Sources& src, bool include_internal) {
  auto admin = src.admin();
  if (!admin) return failed_panel("topics", admin.error());
  auto list = (*admin)->list_topics(include_internal);
  if (!list) return failed_panel("topics", list.error());
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& t : *list) {
    nlohmann::json item = {
        {"name", t.name}, {"partitions", t.partitions}, {"replication_factor", t.replication_factor}};
    auto marks = (*admin)->watermarks(t.name);
    if (!marks) {
      item["error"] = marks.error().message;
    } else {
      int64_t total = 0;
      item["offsets"] = partitions_json(*marks, &total);
      item["messages"] = total;
    }
    arr.push_back(std::move(item));
  }
  return {{"topics", std::move(arr)}, {"bootstrap", src.config().kafka_bootstrap}};
}

nlohmann::json topic_detail(Sources& src, const std::string& topic, std::optional<int32_t> partition, int n) {
  nlohmann::json out = {{"topic", topic}};
  auto admin = src.admin();
  if (!admin) return failed_panel("topic", admin.error());
  auto marks = (*admin)->watermarks(topic);
  if (!marks) {
    auto e = failed_panel("topic", marks.error());
    e["not_found"] = marks.error().kind == Error::Kind::kNotFound;
    return e;
  }
  int64_t total = 0;
  out["offsets"] = partitions_json(*marks, &total);
  out["messages"] = total;
  if (!partition) return out;
  const kafka::Watermark* mark = nullptr;
  for (const auto& w : *marks)
    if (w.partition == *partition) mark = &w;
  nlohmann::json tail = {{"partition", *partition}, {"requested", n}};
  if (!mark) {
    tail["error"] = fmt::format("topic {} has no partition {}", topic, *partition);
    out["tail"] = std::move(tail);
    return out;
  }
  const auto range = tail_range(mark->low, mark->high, n);
  tail["from"] = range.first;
  tail["to"] = range.end;
  auto read = kafka::peek(kafka::PeekOptions{.bootstrap = src.config().kafka_bootstrap,
                                             .client_id = "fleetpipe-console-tail",
                                             .timeout = src.timeouts().kafka,
                                             .extra = {}},
                          topic, *partition, range.first, range.end, static_cast<size_t>(n));
  if (!read) {
    tail["error"] = failed_panel("tail", read.error())["error"];
  } else {
    nlohmann::json msgs = nlohmann::json::array();
    // Newest first, as a tail is read.
    for (auto it = read->messages.rbegin(); it != read->messages.rend(); ++it) {
      msgs.push_back({{"offset", it->offset},
                      {"timestamp_ms", it->timestamp_ms},
                      {"timestamp", utc_time_ms(it->timestamp_ms)},
                      {"key", display_payload(it->key, 512, false)},
                      {"value", display_payload(it->value, kMaxPayloadBytes, true)},
                      {"value_bytes", it->value ? static_cast<int64_t>(it->value->size()) : -1},
                      {"tombstone", !it->value.has_value()}});
    }
    tail["messages"] = std::move(msgs);
    tail["complete"] = read->complete;
  }
  out["tail"] = std::move(tail);
  return out;
}

nlohmann::json groups(Sources& src) {
  auto admin = src.admin();
  if (!admin) return failed_panel("groups", admin.error());
  auto listed = (*admin)->list_groups();
  if (!listed) return failed_panel("groups", listed.error());
  std::vector<std::string> ids;
  for (const auto& g : *listed) ids.push_back(g.group_id);
  std::map<std::string, kafka::GroupDescription> described;
  if (auto d = (*admin)->describe_groups(ids); d) {
    for (auto& g : *d) described[g.group_id] = std::move(g);
  }
  // Watermarks once per topic, however many groups read it.
  std::map<std::string, Result<std::vector<kafka::Watermark>>> marks;
  auto marks_of = [&](const std::string& topic) -> const Result<std::vector<kafka::Watermark>>& {
    auto it = marks.find(topic);
    if (it == marks.end()) it = marks.emplace(topic, (*admin)->watermarks(topic)).first;
    return it->second;
  };
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& g : *listed) {
    nlohmann::json item = {{"group", g.group_id}, {"state", g.state}, {"simple", g.simple}};
    if (auto it = described.find(g.group_id); it != described.end()) {
      if (it->second.error.empty()) {
        item["members"] = it->second.members;
        item["state"] = it->second.state;
      } else {
        item["describe_error"] = it->second.error;
      }
    }
    auto offsets = (*admin)->group_offsets(g.group_id);
    if (!offsets) {
      item["error"] = offsets.error().message;
      arr.push_back(std::move(item));
      continue;
    }
    nlohmann::json parts = nlohmann::json::array();
    int64_t total = 0;
    for (const auto& c : *offsets) {
      nlohmann::json p = {{"topic", c.topic}, {"partition", c.partition}, {"committed", c.offset}};
      const auto& m = marks_of(c.topic);
      const kafka::Watermark* w = nullptr;
      if (m)
        for (const auto& x : *m)
          if (x.partition == c.partition) w = &x;
      if (w) {
        p["high"] = w->high;
        p["lag"] = kafka::partition_lag(c.offset, w->low, w->high);
        total += p["lag"].get<int64_t>();
      } else {
        p["error"] = m ? "partition not found" : m.error().message;
      }
      parts.push_back(std::move(p));
    }
    item["partitions"] = std::move(parts);
    item["lag"] = total;
    arr.push_back(std::move(item));
  }
  return {{"groups", std::move(arr)}};
}

}  // namespace fp::console
