#include "common/kafka/group_retention.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace fp::kafka {

Result<GroupRetentionScan> scan_group_retention(Admin& admin) {
  const auto groups = FP_TRY(admin.list_groups(), "group retention");
  GroupRetentionScan out;
  // Watermarks once per topic, however many groups read it.
  std::map<std::string, Result<std::vector<Watermark>>> marks;
  for (const auto& g : groups) {
    auto offsets = admin.group_offsets(g.group_id);
    if (!offsets) {
      out.errors.push_back(fmt::format("group {}: {}", g.group_id, offsets.error().message));
      continue;
    }
    for (const auto& c : *offsets) {
      auto it = marks.find(c.topic);
      if (it == marks.end()) it = marks.emplace(c.topic, admin.watermarks(c.topic)).first;
      const auto& m = it->second;
      if (!m) {
        if (m.error().kind != Error::Kind::kNotFound)
          out.errors.push_back(fmt::format("topic {}: {}", c.topic, m.error().message));
        continue;
      }
      const auto w =
          std::find_if(m->begin(), m->end(), [&](const Watermark& x) { return x.partition == c.partition; });
      if (w == m->end()) continue;  // a partition the topic no longer has
      out.partitions.push_back(GroupPartitionRetention{g.group_id, c.topic, c.partition, c.offset, w->low,
                                                       w->high, assess_retention(c.offset, w->low, w->high)});
    }
  }
  std::sort(out.partitions.begin(), out.partitions.end(),
            [](const GroupPartitionRetention& a, const GroupPartitionRetention& b) {
              return std::tie(a.group, a.topic, a.partition) < std::tie(b.group, b.topic, b.partition);
            });
  std::sort(out.errors.begin(), out.errors.end());
  out.errors.erase(std::unique(out.errors.begin(), out.errors.end()), out.errors.end());
  return out;
}

std::vector<std::string> retention_problems(const GroupRetentionScan& scan, RetentionRisk at_least) {
  std::vector<const GroupPartitionRetention*> hit;
  for (const auto& p : scan.partitions)
    if (p.verdict.risk >= at_least && p.verdict.risk != RetentionRisk::kOk) hit.push_back(&p);
  // Lost before at risk, then the least headroom first.
  std::stable_sort(hit.begin(), hit.end(), [](const auto* a, const auto* b) {
    return std::tie(b->verdict.risk, a->verdict.headroom_ratio) <
           std::tie(a->verdict.risk, b->verdict.headroom_ratio);
  });
  std::vector<std::string> out;
  for (const auto* p : hit) {
    if (p->verdict.risk == RetentionRisk::kLost)
      out.push_back(fmt::format("group {} lost {} message(s) of {}[{}]: committed {} < low watermark {}",
                                p->group, p->verdict.lost_messages, p->topic, p->partition, p->committed,
                                p->low));
    else
      out.push_back(fmt::format(
          "group {} is about to fall off {}[{}]: lag {} of the {} message(s) retained ({:.0f} % read); Kafka "
          "deletes the oldest next",
          p->group, p->topic, p->partition, p->verdict.lag, p->high - p->low,
          100.0 * p->verdict.headroom_ratio));
  }
  return out;
}

}  // namespace fp::kafka
