#include "common/kafka/retention_risk.h"

#include <algorithm>

namespace fp::kafka {

std::string_view risk_name(RetentionRisk r) {
  switch (r) {
    case RetentionRisk::kOk:
      return "ok";
    case RetentionRisk::kAtRisk:
      return "at_risk";
    case RetentionRisk::kLost:
      return "lost";
  }
  return "ok";
}

RetentionVerdict assess_retention(int64_t committed, int64_t low, int64_t high, double at_risk_lag_share) {
  RetentionVerdict v;
  // Nothing committed: the group has no position of its own to lose (it starts per its auto.offset.reset).
  if (committed < 0) return v;
  v.lag = std::max<int64_t>(0, high - committed);
  if (committed < low) {
    v.risk = RetentionRisk::kLost;
    v.lost_messages = low - committed;
    v.headroom_ratio = 0.0;
    return v;
  }
  const int64_t retained = high - low;
  if (retained <= 0 || committed >= high) return v;
  v.headroom_ratio = static_cast<double>(committed - low) / static_cast<double>(retained);
  if (low > 0 && static_cast<double>(v.lag) > at_risk_lag_share * static_cast<double>(retained))
    v.risk = RetentionRisk::kAtRisk;
  return v;
}

}  // namespace fp::kafka
