#include "stack/jvm_services.h"
#include "stack/postgres_server.h"

namespace fp::stack {

std::vector<std::unique_ptr<Component>> make_components(const Context& ctx) {
  std::vector<std::unique_ptr<Component>> out;
  // Both servers take bulk loads (generate --bulk, COPY into the webapp; load into the warehouse): WAL
  // buffers that hold a whole COPY batch's WAL without the backend writing it out itself, and checkpoints
  // by time rather than every ~0.5 GB of WAL (each checkpoint makes the next write of every page a
  // full-page image). Durability is unchanged: synchronous_commit and full_page_writes stay on.
  const std::map<std::string, std::string> bulk_wal = {
      {"wal_buffers", "32MB"}, {"max_wal_size", "2GB"}, {"checkpoint_timeout", "15min"}};
  // Logical decoding for Debezium: pgoutput needs wal_level=logical and room for slots and senders.
  std::map<std::string, std::string> webapp = {{"wal_level", "logical"},    {"max_replication_slots", "8"},
                                               {"max_wal_senders", "8"},    {"max_slot_wal_keep_size", "4GB"},
                                               {"shared_buffers", "256MB"}, {"max_connections", "200"}};
  // JIT only for statements planned as whole-history work (a full refresh, the whole-table tests): an
  // incremental build's statements are estimated above PostgreSQL's default thresholds (100 000 / 500 000)
  // and spent 1.7 to 3.2 s compiling a change-log query that then ran for 0.4 s (auto_explain under the
  // warehouse_scale load).
  std::map<std::string, std::string> warehouse = {{"shared_buffers", "256MB"},
                                                  {"max_connections", "100"},
                                                  {"jit_above_cost", "10000000"},
                                                  {"jit_inline_above_cost", "50000000"},
                                                  {"jit_optimize_above_cost", "50000000"}};
  webapp.insert(bulk_wal.begin(), bulk_wal.end());
  warehouse.insert(bulk_wal.begin(), bulk_wal.end());
  out.push_back(std::make_unique<PostgresServer>("webapp", ctx.cfg.webapp, std::move(webapp)));
  out.push_back(std::make_unique<PostgresServer>("warehouse", ctx.cfg.warehouse, std::move(warehouse)));
  out.push_back(std::make_unique<S3Server>(ctx));
  out.push_back(std::make_unique<KafkaBroker>(ctx));
  out.push_back(std::make_unique<KafkaConnect>(ctx));
  return out;
}

}  // namespace fp::stack
