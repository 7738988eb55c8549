// What `up` sets up inside the running engines, each step idempotent: databases, roles and migrations in
// PostgreSQL; the declared topics in Kafka; the declared connectors in Kafka Connect; the landing bucket.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "common/kafka/admin.h"
#include "common/pg/connection.h"
#include "stack/component.h"

namespace fp::stack {

// Creates the database if missing, applies sql/<role>/ migrations, then the service roles and their grants.
Status provision_database(Context& ctx, const std::string& role, const PgConfig& pg);

// On `conn` (the administrator, on the database `db_role` names: "webapp" or "warehouse"): creates or
// updates the login role of every service that uses that database (and Debezium's on the webapp's) and runs
// sql/grants/<db_role>.sql, which grants each only what it needs. Idempotent; run by every `up`.
Status provision_service_roles(pg::Connection& conn, const Config& cfg, const std::filesystem::path& repo,
                               const std::string& db_role);

// For `status`: the replication slots the declared connectors use ("slot.name") exist and are not lost or
// about to be (wal_status), and the WAL each holds back is under `max_retained_bytes`.
Status replication_slots_ok(const Context& ctx, const PgConfig& pg, int64_t max_retained_bytes);

// For `status`: no consumer group has lost messages to retention (an error naming the worst); the groups
// about to are added to `warnings`. Groups or topics that cannot be read are warnings too.
Status consumer_groups_retained(const Context& ctx, std::vector<std::string>* warnings);

// A metadata round-trip to the broker: it is up and has a controller.
Status kafka_ready(const std::string& host, int port);

// `fleetpipe topics apply`: creates missing topics from config/topics.json with retention derived from the
// Kafka disk budget (stack/kafka_budget.h); aligns existing topics' retention.ms, retention.bytes and
// segment.bytes, bounds undeclared topics that delete old segments by the undeclared share, and reports
// other drift (partition count, other configs) without changing it.
Status apply_topics(Context& ctx);

// The retention settings (retention.ms, retention.bytes, segment.bytes) of `wanted` that the broker's
// configs lack or hold another value of: what apply_topics alters.
kafka::ConfigMap retention_drift(const kafka::ConfigMap& wanted, const kafka::ConfigMap& on_broker);

// `fleetpipe connectors apply`: PUTs every config/connectors/*.json (placeholders filled from the
// configuration) and waits until each connector and all its tasks are RUNNING, printing a failed task's
// trace.
Status apply_connectors(Context& ctx);

// The connectors config/connectors/*.json declare, ${NAME} references resolved: {"name", "config"} each, the
// config carrying its name too.
Result<std::vector<nlohmann::json>> declared_connectors(const Context& ctx);

// For `status`: every declared connector and each of its tasks is RUNNING (one REST call, no retries); the
// error names the first one that is not, with the first line of its trace.
Status connectors_running(const Context& ctx);

// Creates the landing bucket if missing.
Status ensure_bucket(Context& ctx);

// How fill_template_variables writes a value: escaped as inside a JSON string (connector files), or as it is
// (SQL whose values are quoted identifiers and literals already).
enum class TemplateValueEscape { kJsonString, kVerbatim };

// Fills ${NAME} template variables (upper-case names only; Kafka Connect's own ${provider:path:key}
// references are left for the worker to resolve). An unknown name is an error.
Result<std::string> fill_template_variables(const std::string& text,
                                            const std::map<std::string, std::string>& values,
                                            TemplateValueEscape escape = TemplateValueEscape::kJsonString);

// The values connector files may reference.
std::map<std::string, std::string> connector_placeholders(const Context& ctx);

}  // namespace fp::stack
