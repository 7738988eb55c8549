// Whether a consumer group is about to fall off the range a partition still retains, or already has: Kafka
// deletes a partition's oldest segments by time and by size whether or not anyone has read them, and a
// group whose committed offset is below the low watermark resumes at the oldest message left (or the
// newest, per its auto.offset.reset): the messages in between are lost to it, silently. Pure arithmetic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fp::kafka {

enum class RetentionRisk { kOk, kAtRisk, kLost };
std::string_view risk_name(RetentionRisk r);  // "ok", "at_risk", "lost"

struct RetentionVerdict {
  RetentionRisk risk = RetentionRisk::kOk;
  // (committed - low) / (high - low): the part of the retained range the group has read. What Kafka deletes
  // next comes from that part; at 0 the next deletion takes messages the group has not read. 1 when the
  // group has nothing left to lose (caught up, nothing committed, an empty partition).
  double headroom_ratio = 1.0;
  int64_t lost_messages = 0;  // low - committed when the group is behind the low watermark
  int64_t lag = 0;            // high - committed, never negative
};

// The default: at risk once the group's lag is more than 80 % of the retained messages.
inline constexpr double kAtRiskLagShare = 0.8;

// `committed` is the next offset the group will read (-1: nothing committed); [low, high) what the
// partition retains. Lost when committed < low. At risk when the lag exceeds `at_risk_lag_share` of the
// retained range AND the partition is being trimmed (low > 0: Kafka has deleted from its start already, so
// it will again): on a partition that never lost a message, a group at offset 0 loses nothing until the
// retention limits are reached, and flagging every new consumer would make the warning noise.
RetentionVerdict assess_retention(int64_t committed, int64_t low, int64_t high,
                                  double at_risk_lag_share = kAtRiskLagShare);

}  // namespace fp::kafka
