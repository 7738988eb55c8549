// The topics pages (/topics and /topics/{name}, with /api/ twins): topics, offsets and message tails, from
// the broker's admin API and a group-less short-lived consumer (common/kafka/peek.h) that cannot move
// anyone's offsets. The views and their HTML; console/pages/markup.h says why the two share a file.
#include "common/kafka/peek.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/views.h"

namespace fp::console {

namespace {

constexpr size_t kMaxPayloadBytes = 4096;
// What the tail keeps of each key and value: enough to re-indent a JSON value up to kPrettyMaxBytes; a
// message can be as large as the broker allows, and 200 of them are one request.
constexpr size_t kMaxReadBytes = kPrettyMaxBytes;

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
                                             .max_payload_bytes = kMaxReadBytes,
                                             .extra = {}},
                          topic, *partition, range.first, range.end, static_cast<size_t>(n));
  if (!read) {
    tail["error"] = failed_panel("tail", read.error())["error"];
  } else {
    nlohmann::json msgs = nlohmann::json::array();
    // Newest first, as a tail is read.
    for (auto it = read->messages.rbegin(); it != read->messages.rend(); ++it) {
      auto key = display_payload(it->key, it->key_bytes, 512, false);
      auto value = display_payload(it->value, it->value_bytes, kMaxPayloadBytes, true);
      nlohmann::json m = {{"offset", it->offset},
                          {"timestamp_ms", it->timestamp_ms},
                          {"timestamp", utc_time_ms(it->timestamp_ms)},
                          {"key", std::move(key.text)},
                          {"value", std::move(value.text)},
                          {"value_bytes", it->value ? static_cast<int64_t>(it->value_bytes) : -1},
                          {"tombstone", !it->value.has_value()}};
      if (!key.note.empty()) m["key_note"] = std::move(key.note);
      if (!value.note.empty()) m["value_note"] = std::move(value.note);
      msgs.push_back(std::move(m));
    }
    tail["messages"] = std::move(msgs);
    tail["complete"] = read->complete;
  }
  out["tail"] = std::move(tail);
  return out;
}

}  // namespace fp::console

namespace fp::console::html {

using nlohmann::json;

std::string topics(const json& t, bool internal) {
  std::string body = "<h1>Topics</h1>\n";
  body += fmt::format("<p class=\"lede\">Kafka at {} · <a href=\"/topics{}\">{}</a></p>\n",
                      e(text_of(t, "bootstrap")), internal ? "" : "?internal=1",
                      internal ? "hide internal topics" : "show internal topics");
  body += error_box(t);
  if (!failed(t)) {
    body += table_open({{"Topic", false},
                        {"Partitions", true},
                        {"Messages", true},
                        {"Offsets per partition (low → high)", false}});
    for (const auto& topic : t.value("topics", json::array())) {
      const std::string name = text_of(topic, "name");
      const std::string href = "/topics/" + http_path_segment(name);
      std::string offsets;
      if (topic.contains("error")) {
        offsets = "<span class=\"bad-text\">" + e(text_of(topic, "error")) + "</span>";
      } else {
        for (const auto& p : topic.value("offsets", json::array())) {
          offsets += fmt::format("<a class=\"chip\" href=\"{}?partition={}\">p{}: {} → {}</a> ", e(href),
                                 int_of(p, "partition"), int_of(p, "partition"), grouped(int_of(p, "low")),
                                 grouped(int_of(p, "high")));
        }
      }
      body += fmt::format(
          "<tr data-topic=\"{0}\"><th scope=\"row\"><a href=\"{1}\">{0}</a></th>{2}{3}<td>{4}"
          "</td></tr>\n",
          e(name), e(href), td_num(int_of(topic, "partitions")), td_num(int_of(topic, "messages")), offsets);
    }
    body += kTableClose;
  }
  return page("Topics", "/topics", body);
}

std::string topic(const json& d, int n) {
  const std::string name = text_of(d, "topic");
  std::string body =
      fmt::format("<p class=\"crumbs\"><a href=\"/topics\">Topics</a> /</p><h1>{}</h1>\n", e(name));
  body += error_box(d);
  if (failed(d)) return page(name, "/topics", body);
  const std::string href = "/topics/" + http_path_segment(name);
  body += "<section class=\"card\"><h2>Partitions</h2>\n";
  body += table_open({{"Partition", true}, {"Low", true}, {"High", true}, {"Messages", true}, {"", false}});
  for (const auto& p : d.value("offsets", json::array())) {
    body += fmt::format(
        "<tr data-partition=\"{0}\"><td class=\"num\">{0}</td>{1}{2}{3}<td><a href=\"{4}?"
        "partition={0}&amp;n={5}\">last {5} messages</a></td></tr>\n",
        int_of(p, "partition"), td_num(int_of(p, "low")), td_num(int_of(p, "high")),
        td_num(int_of(p, "messages")), e(href), n);
  }
  body += kTableClose;
  body += "</section>\n";
  if (d.contains("tail")) {
    const json& tail = d["tail"];
    const int64_t part = int_of(tail, "partition");
    body += fmt::format("<section class=\"card\" id=\"tail\"><h2>Partition {}: the last {} messages</h2>\n",
                        part, int_of(tail, "requested"));
    body += fmt::format(
        "<form method=\"get\" action=\"{}\" class=\"inline\"><input type=\"hidden\" name=\"partition\" "
        "value=\"{}\"><label for=\"tail-n\">Messages</label><input id=\"tail-n\" name=\"n\" type=\"number\" "
        "min=\"1\" max=\"200\" value=\"{}\"><button type=\"submit\">Show</button></form>\n",
        e(href), part, n);
    body += error_box(tail);
    if (!failed(tail)) {
      body += fmt::format("<p class=\"muted\">Offsets {} to {} (newest first){}.</p>\n",
                          grouped(int_of(tail, "from")), grouped(int_of(tail, "to") - 1),
                          tail.value("complete", true) ? "" : "; the read timed out, so some may be missing");
      const auto& msgs = tail.value("messages", json::array());
      if (msgs.empty()) {
        body += "<p class=\"empty\">No messages in this partition.</p>\n";
      } else {
        body += table_open({{"Offset", true}, {"Timestamp", false}, {"Key", false}, {"Value", false}});
        for (const auto& m : msgs) {
          const int64_t bytes = int_of(m, "value_bytes", -1);
          auto note = [&](const char* field) {
            return m.contains(field)
                       ? fmt::format(" <span class=\"muted note\">({})</span>", e(text_of(m, field)))
                       : std::string();
          };
          body += fmt::format(
              "<tr class=\"msg\" data-offset=\"{0}\"><td class=\"num\">{0}</td><td>{1}</td><td "
              "class=\"key\"><code>{2}"
              "</code>{5}</td><td><pre class=\"value\">{3}</pre>{4}{6}</td></tr>\n",
              int_of(m, "offset"), e(text_of(m, "timestamp")), e(text_of(m, "key")), e(text_of(m, "value")),
              bytes >= 0 ? fmt::format("<span class=\"muted\">{}</span>", human_bytes(bytes))
                         : std::string("<span class=\"muted\">tombstone</span>"),
              note("key_note"), note("value_note"));
        }
        body += kTableClose;
      }
    }
    body += "</section>\n";
  }
  return page(name, "/topics", body);
}

}  // namespace fp::console::html
