#include "stack/jvm_services.h"
#include "stack/postgres_server.h"

namespace fp::stack {

std::vector<std::unique_ptr<Component>> make_components(const Context& ctx) {
  std::vector<std::unique_ptr<Component>> out;
  // Logical decoding for Debezium: pgoutput needs wal_level=logical and room for slots and senders.
  out.push_back(
      std::make_unique<PostgresServer>("webapp", ctx.cfg.webapp,
                                       std::map<std::string, std::string>{{"wal_level", "logical"},
                                                                          {"max_replication_slots", "8"},
                                                                          {"max_wal_senders", "8"},
                                                                          {"max_slot_wal_keep_size", "4GB"},
                                                                          {"shared_buffers", "256MB"},
                                                                          {"max_connections", "200"}}));
  out.push_back(std::make_unique<PostgresServer>(
      "warehouse", ctx.cfg.warehouse,
      std::map<std::string, std::string>{{"shared_buffers", "256MB"}, {"max_connections", "100"}}));
  out.push_back(std::make_unique<S3Server>(ctx));
  out.push_back(std::make_unique<KafkaBroker>(ctx));
  out.push_back(std::make_unique<KafkaConnect>(ctx));
  return out;
}

}  // namespace fp::stack
