// The console's views as data: each returns the JSON its /api/ route serves and its HTML page renders. A
// panel whose source fails carries {"error": "..."} instead of its data, so one part being down degrades
// only that panel. Each view is implemented in console/pages/<page>.cpp beside the HTML that renders it
// (console/pages/markup.h says why).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "console/sources.h"

namespace fp::console {

// Overview: the stack's parts (fleetpipe status), the other UIs' health, consumer groups against Kafka's
// retained range (kafka_retention) and each store's disk usage (storage, cached by Sources::disk_usage).
nlohmann::json overview(Sources& src);
// Every consumer group's committed offsets against the retained range: each partition's verdict, the
// problems as sentences, counts of lost and at-risk partitions.
nlohmann::json kafka_retention(Sources& src);

// Topics with partitions and low/high offsets; internal topics (__consumer_offsets) on request.
nlohmann::json topics(Sources& src, bool include_internal);
// One topic's partitions, and the last `n` messages of `partition` (when given).
nlohmann::json topic_detail(Sources& src, const std::string& topic, std::optional<int32_t> partition, int n);

// Consumer groups: state, members, committed offsets and lag per partition.
nlohmann::json groups(Sources& src);

// CDC: the Kafka Connect connectors and tasks, and the webapp database's replication slots.
nlohmann::json cdc(Sources& src);
// POST /connectors/{name}/restart?includeTasks=true.
Result<nlohmann::json> restart_connector(Sources& src, const std::string& name);

// Batch lane and warehouse: export watermark vs the source, last load, last dbt build, last verify.
nlohmann::json batch(Sources& src);
// Run history, newest first: `limit` runs with run_id < before (all when before is empty).
nlohmann::json runs(Sources& src, std::optional<int64_t> before, int limit);
// Asks the scheduler for a run: a row in ops.run_requests and NOTIFY fleetpipe_run_request.
// `full_tests`: the run also tests whole tables (step dbt_full_tests).
Result<nlohmann::json> request_run(Sources& src, const std::string& requested_by, bool full_tests = false);

// Parsing of what other parts write (pure, unit-tested).
// Kafka Connect's GET /connectors?expand=status&expand=info -> [{name, type, class, state, worker_id,
// trace, tasks: [{id, state, worker_id, trace}]}] sorted by name.
Result<nlohmann::json> parse_connectors(const nlohmann::json& expanded);
// A dbt_build step's detail -> {"pass","fail","error","skip","warn"} (missing counts are 0); verify's detail
// -> {"stages": [...], "failed": n}. Malformed detail is an error naming the field.
Result<nlohmann::json> parse_dbt_detail(const nlohmann::json& detail);
Result<nlohmann::json> parse_verify_detail(const nlohmann::json& detail);

}  // namespace fp::console
