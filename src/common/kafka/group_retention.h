// Every consumer group's committed offsets against what the partitions still retain (kafka/retention_risk.h
// says when a group is at risk or has lost messages): what `status`, the console's groups page and overview
// and its /metrics report. One ListConsumerGroups, one offsets request per group and one watermark query per
// partition, each bounded by the admin client's timeout.
#pragma once

#include <string>
#include <vector>

#include "common/kafka/admin.h"
#include "common/kafka/retention_risk.h"

namespace fp::kafka {

struct GroupPartitionRetention {
  std::string group;
  std::string topic;
  int32_t partition = -1;
  int64_t committed = -1;
  int64_t low = 0;
  int64_t high = 0;
  RetentionVerdict verdict;
};

struct GroupRetentionScan {
  std::vector<GroupPartitionRetention> partitions;  // sorted by group, topic, partition
  std::vector<std::string> errors;                  // groups or topics that could not be read
};

// Fails only when the groups cannot be listed; a group or topic that cannot be read is named in `errors`.
// Offsets on a topic that no longer exists are skipped: there is nothing left there to lose.
Result<GroupRetentionScan> scan_group_retention(Admin& admin);

// One line per partition that is at risk or lost, worst first ("group realtime lost 1,200 message(s) of
// trips[2]: committed 300 < low watermark 1,500").
std::vector<std::string> retention_problems(const GroupRetentionScan& scan, RetentionRisk at_least);

}  // namespace fp::kafka
