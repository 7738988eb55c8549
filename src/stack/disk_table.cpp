// The text form of a disk report for `fleetpipe status`: one line per figure, then what could not be
// measured and why.
#include "common/byte_size.h"
#include "stack/disk_report.h"

namespace fp::stack {

namespace {

const char* store_title(const std::string& store) {
  if (store == "state_dir") return "state directory";
  if (store == "postgres_database") return "database";
  if (store == "postgres_wal") return "WAL";
  if (store == "kafka_topic") return "Kafka topic";
  if (store == "bucket") return "bucket";
  return "filesystem";
}

}  // namespace

std::string disk_table(const nlohmann::json& disk) {
  using nlohmann::json;
  std::string out = fmt::format("{:<16} {:<40} {:>12}\n", "STORE", "NAME", "SIZE");
  for (const auto& l : disk_lines(disk)) {
    if (l.store == "filesystem") continue;  // summarised below
    // An incomplete walk is a lower bound.
    out += fmt::format("{:<16} {:<40} {:>12}\n", store_title(l.store), l.name,
                       (l.complete ? "" : ">= ") + format_byte_size(l.bytes));
  }
  const json fs = disk.value("filesystem", json::object());
  if (fs.contains("total_bytes"))
    out += fmt::format("filesystem of {}: {} used, {} free of {}\n", fs.value("path", ""),
                       format_byte_size(fs.value("used_bytes", int64_t{0})),
                       format_byte_size(fs.value("free_bytes", int64_t{0})),
                       format_byte_size(fs.value("total_bytes", int64_t{0})));
  std::vector<std::string> errors;
  auto note = [&](const std::string& what, const json& j, const char* key) {
    if (j.is_object() && j.contains(key)) errors.push_back(what + ": " + j.value(key, ""));
  };
  note("filesystem", fs, "error");
  for (const auto& p : disk.value("state_dir", json::object()).value("parts", json::array()))
    note("state directory " + p.value("name", ""), p, "error");
  for (const auto& s : disk.value("postgres", json::array())) {
    note(s.value("server", ""), s, "error");
    note(s.value("server", "") + " WAL", s, "wal_error");
  }
  note("Kafka topics", disk.value("kafka", json::object()), "error");
  note("bucket", disk.value("bucket", json::object()), "error");
  for (const auto& e : errors) out += "not measured: " + e + "\n";
  return out;
}

}  // namespace fp::stack
