// `status`'s Kafka condition: whether a consumer group has lost, or is about to lose, messages to retention
// (kafka/group_retention.h). Lost is unhealthy — it already happened and someone must decide what to
// replay — while at risk is a warning: the group can still catch up.
#include <algorithm>

#include "common/kafka/group_retention.h"
#include "stack/provision.h"

namespace fp::stack {

Status consumer_groups_retained(const Context& ctx, std::vector<std::string>* warnings) {
  kafka::AdminOptions opts;
  opts.bootstrap = ctx.cfg.kafka_bootstrap;
  opts.client_id = "fleetpipe-status";
  // `status` asks, it does not wait: a few seconds per request at most.
  opts.timeout = std::chrono::milliseconds(3000);
  auto admin = FP_TRY(kafka::Admin::create(opts), "consumer groups");
  const auto scan = FP_TRY(kafka::scan_group_retention(*admin), "consumer groups");
  for (const auto& e : scan.errors) warnings->push_back("cannot check retention: " + e);
  const auto lost = kafka::retention_problems(scan, kafka::RetentionRisk::kLost);
  const auto at_risk = kafka::retention_problems(scan, kafka::RetentionRisk::kAtRisk);
  for (const auto& w : at_risk)
    if (std::find(lost.begin(), lost.end(), w) == lost.end()) warnings->push_back(w);
  if (!lost.empty())
    return make_error("{}{}", lost.front(),
                      lost.size() > 1 ? fmt::format(" (and {} more partition(s))", lost.size() - 1) : "");
  return ok_status();
}

}  // namespace fp::stack
