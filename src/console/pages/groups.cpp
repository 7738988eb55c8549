// The consumer groups page (/groups, /api/groups): state, members, committed offsets, the lag per partition,
// and where each committed offset stands in the range the partition still retains (at risk of falling off
// it, or already behind its start: kafka/retention_risk.h), from the broker's admin API. The view and its
// HTML; console/pages/markup.h says why the two share a file.
#include <map>

#include "common/kafka/admin.h"
#include "common/kafka/retention_risk.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/views.h"

namespace fp::console {

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
    kafka::RetentionRisk worst = kafka::RetentionRisk::kOk;
    for (const auto& c : *offsets) {
      nlohmann::json p = {{"topic", c.topic}, {"partition", c.partition}, {"committed", c.offset}};
      const auto& m = marks_of(c.topic);
      const kafka::Watermark* w = nullptr;
      if (m)
        for (const auto& x : *m)
          if (x.partition == c.partition) w = &x;
      if (w) {
        p["low"] = w->low;
        p["high"] = w->high;
        p["lag"] = kafka::partition_lag(c.offset, w->low, w->high);
        total += p["lag"].get<int64_t>();
        const auto v = kafka::assess_retention(c.offset, w->low, w->high);
        p["risk"] = kafka::risk_name(v.risk);
        p["headroom_ratio"] = v.headroom_ratio;
        p["lost_messages"] = v.lost_messages;
        if (v.risk > worst) worst = v.risk;
      } else {
        p["error"] = m ? "partition not found" : m.error().message;
      }
      parts.push_back(std::move(p));
    }
    item["partitions"] = std::move(parts);
    item["lag"] = total;
    item["retention_risk"] = kafka::risk_name(worst);
    arr.push_back(std::move(item));
  }
  return {{"groups", std::move(arr)}};
}

}  // namespace fp::console

namespace fp::console::html {

using nlohmann::json;

namespace {

std::string retention_badge(const std::string& risk) {
  if (risk == "lost") return "<span class=\"badge bad\">lost</span>";
  if (risk == "at_risk") return "<span class=\"badge warn\">at risk</span>";
  return risk.empty() ? "" : "<span class=\"badge good\">ok</span>";
}

}  // namespace

std::string groups(const json& g) {
  std::string body =
      "<h1>Consumer groups</h1>\n<p class=\"lede\">Committed offsets against the range each partition "
      "retains: a group whose lag is over 80 % of a partition Kafka is trimming is at risk; one behind the "
      "low watermark has lost messages.</p>\n";
  body += error_box(g);
  if (failed(g)) return page("Consumer groups", "/groups", body);
  const auto& list = g.value("groups", json::array());
  if (list.empty()) body += "<p class=\"empty\">No consumer groups.</p>\n";
  for (const auto& grp : list) {
    const std::string id = text_of(grp, "group");
    body +=
        fmt::format("<section class=\"card group\" data-group=\"{0}\"><h2>{0} {1}</h2>\n<p class=\"meta\">",
                    e(id), badge(text_of(grp, "state")));
    if (grp.contains("members")) body += fmt::format("{} member(s) · ", int_of(grp, "members"));
    body += fmt::format("total lag <strong class=\"lag\">{}</strong>", grouped(int_of(grp, "lag")));
    if (const std::string risk = text_of(grp, "retention_risk"); !risk.empty() && risk != "ok")
      body += " · " + retention_badge(risk);
    body += "</p>\n";
    if (grp.contains("describe_error"))
      body += "<div class=\"panel-error\">" + e(text_of(grp, "describe_error")) + "</div>\n";
    body += error_box(grp);
    const auto& parts = grp.value("partitions", json::array());
    if (!failed(grp) && parts.empty()) body += "<p class=\"muted\">No committed offsets.</p>\n";
    if (!parts.empty()) {
      body += table_open({{"Topic", false},
                          {"Partition", true},
                          {"Committed", true},
                          {"Low watermark", true},
                          {"High watermark", true},
                          {"Lag", true},
                          {"Read of retained", true},
                          {"Retention", false}});
      for (const auto& p : parts) {
        if (p.contains("error")) {
          body += fmt::format(
              "<tr><td>{}</td><td class=\"num\">{}</td><td colspan=\"6\" class=\"bad-text\">{}"
              "</td></tr>\n",
              e(text_of(p, "topic")), int_of(p, "partition"), e(text_of(p, "error")));
          continue;
        }
        const int64_t committed = int_of(p, "committed", -1);
        const std::string risk = text_of(p, "risk");
        const double headroom = p.value("headroom_ratio", 1.0);
        body += fmt::format(
            "<tr data-topic=\"{0}\" data-partition=\"{1}\"><td>{0}</td><td class=\"num\">{1}</td><td "
            "class=\"num\">{2}</td>{3}{4}<td class=\"num lag\">{5}</td><td class=\"num\">{6}</td><td "
            "data-risk=\"{7}\">{8}</td></tr>\n",
            e(text_of(p, "topic")), int_of(p, "partition"), committed >= 0 ? grouped(committed) : "none",
            td_num(int_of(p, "low")), td_num(int_of(p, "high")), grouped(int_of(p, "lag")),
            committed >= 0 ? fmt::format("{:.0f} %", 100.0 * headroom) : "-", e(risk),
            risk == "lost"
                ? retention_badge(risk) + fmt::format(" {} message(s)", grouped(int_of(p, "lost_messages")))
                : retention_badge(risk));
      }
      body += kTableClose;
    }
    body += "</section>\n";
  }
  return page("Consumer groups", "/groups", body);
}

}  // namespace fp::console::html
