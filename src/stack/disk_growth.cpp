#include "stack/disk_growth.h"

#include <algorithm>
#include <optional>

#include "common/byte_size.h"
#include "common/files.h"
#include "common/log.h"
#include "stack/disk_report.h"
#include "stack/kafka_budget.h"

namespace fp::stack {
namespace {

constexpr double kDayS = 86400.0;

std::optional<int64_t> bytes_of(const DiskSample& s, const std::string& key) {
  const auto it = s.bytes.find(key);
  if (it == s.bytes.end()) return std::nullopt;
  return it->second;
}

std::filesystem::path sample_path(const Context& ctx) {
  return ctx.state() / "run" / "disk-sample.json";
}

}  // namespace

DiskSample sample_of(const nlohmann::json& disk) {
  DiskSample s;
  s.taken_at_ms = disk.value("taken_at_ms", int64_t{0});
  // A lower bound (a walk cut short) would make a rate out of the walk's luck: left out.
  for (const auto& l : disk_lines(disk))
    if (l.complete) s.bytes[l.store + ":" + l.name] = l.bytes;
  return s;
}

nlohmann::json to_json(const DiskSample& s) {
  return {{"taken_at_ms", s.taken_at_ms}, {"bytes", s.bytes}};
}

DiskSample sample_from_json(const nlohmann::json& j) {
  DiskSample s;
  if (!j.is_object()) return s;
  s.taken_at_ms = j.value("taken_at_ms", int64_t{0});
  const auto bytes = j.value("bytes", nlohmann::json::object());  // named: items() must not outlive it
  for (const auto& [k, v] : bytes.items())
    if (v.is_number_integer()) s.bytes[k] = v.get<int64_t>();
  return s;
}

std::vector<std::string> growth_warnings(const DiskSample& before, const DiskSample& now,
                                         const GrowthInputs& in) {
  std::vector<std::string> out;
  const int64_t kafka_now = bytes_of(now, "state_dir:kafka").value_or(0);
  const int64_t kafka_remaining = std::max<int64_t>(0, in.kafka_budget - kafka_now);
  if (kafka_remaining > in.free_bytes)
    out.push_back(
        fmt::format("Kafka may still grow by {} to its disk budget of {}, but only {} is free: lower "
                    "FLEETPIPE_KAFKA_DISK_BUDGET or free some space",
                    format_byte_size(kafka_remaining), format_byte_size(in.kafka_budget),
                    format_byte_size(in.free_bytes)));
  const int64_t interval_ms = now.taken_at_ms - before.taken_at_ms;
  if (before.taken_at_ms <= 0 || interval_ms < kMinSampleIntervalMs) return out;
  const double seconds = static_cast<double>(interval_ms) / 1000.0;
  auto rate = [&](const std::string& key) {  // bytes a second, 0 when shrinking or unknown
    const auto a = bytes_of(before, key);
    const auto b = bytes_of(now, key);
    return a && b && *b > *a ? static_cast<double>(*b - *a) / seconds : 0.0;
  };
  for (const auto& [topic, bound] : in.topics) {
    const double r = rate("kafka_topic:" + topic);
    if (r <= 0 || bound.retention_ms <= 0 || bound.bound_bytes <= 0) continue;
    const double needed = r * static_cast<double>(bound.retention_ms) / 1000.0;
    if (needed <= static_cast<double>(bound.bound_bytes)) continue;
    out.push_back(
        fmt::format("topic {} grows {}/day: its retention.ms of {:.1f} day(s) would need {}, its share of "
                    "the Kafka budget "
                    "is {}; the bytes bound deletes first and keeps about {:.1f} hour(s)",
                    topic, format_byte_size(static_cast<int64_t>(r * kDayS)),
                    static_cast<double>(bound.retention_ms) / 1000.0 / kDayS,
                    format_byte_size(static_cast<int64_t>(needed)), format_byte_size(bound.bound_bytes),
                    static_cast<double>(bound.bound_bytes) / r / 3600.0));
  }
  // The stores that keep everything today; Kafka is bounded by its budget (kafka_remaining above).
  const double others = rate("state_dir:postgres") + rate("state_dir:s3proxy") + rate("state_dir:log");
  if (others <= 0) return out;
  const double needed =
      static_cast<double>(kafka_remaining) + others * static_cast<double>(in.horizon_ms) / 1000.0;
  if (needed <= static_cast<double>(in.free_bytes)) return out;
  const double days_left =
      std::max(0.0, static_cast<double>(in.free_bytes - kafka_remaining)) / others / kDayS;
  out.push_back(fmt::format(
      "at the current rate the disk fills in about {:.1f} day(s), within the longest retention declared "
      "({:.1f} days): {} free; PostgreSQL, the bucket and the logs grow {}/day together (measured over "
      "{:.1f} "
      "h) and keep everything, and Kafka may still grow by {} to its budget",
      days_left, static_cast<double>(in.horizon_ms) / 1000.0 / kDayS, format_byte_size(in.free_bytes),
      format_byte_size(static_cast<int64_t>(others * kDayS)), seconds / 3600.0,
      format_byte_size(kafka_remaining)));
  return out;
}

void warn_disk_growth(const Context& ctx) {
  auto budget = kafka_budget(ctx);
  if (!budget) {
    log::warn("disk", "no growth estimate: {}", budget.error().message);
    return;
  }
  const auto disk = measure_local_disk(ctx);
  const DiskSample now = sample_of(disk);
  DiskSample before;
  if (auto text = read_file(sample_path(ctx)); text.ok())
    before = sample_from_json(nlohmann::json::parse(*text, nullptr, false));
  GrowthInputs in;
  in.free_bytes = disk.value("/filesystem/free_bytes"_json_pointer, int64_t{0});
  in.kafka_budget = budget->bytes;
  for (const auto& d : budget->file.topics) {
    TopicBound b;
    if (const auto ms = d.spec.configs.find("retention.ms"); ms != d.spec.configs.end())
      b.retention_ms = std::atoll(ms->second.c_str());
    if (const auto* t = budget_of(*budget, d.spec.name))
      b.bound_bytes = t->retention.retention_bytes * t->partitions;
    in.horizon_ms = std::max(in.horizon_ms, b.retention_ms);
    in.topics[d.spec.name] = b;
  }
  for (const auto& w : growth_warnings(before, now, in)) log::warn("disk", "{}", w);
  log::info("disk", "state directory {}: {} free; Kafka holds {} of its {} budget", ctx.state().string(),
            format_byte_size(in.free_bytes), format_byte_size(bytes_of(now, "state_dir:kafka").value_or(0)),
            format_byte_size(in.kafka_budget));
  // Kept until a later `up` is far enough away to measure a rate against it.
  if (before.taken_at_ms <= 0 || now.taken_at_ms - before.taken_at_ms >= kMinSampleIntervalMs)
    if (auto st = write_file_atomic(sample_path(ctx), to_json(now).dump()); !st)
      log::warn("disk", "keep the disk sample: {}", st.error().message);
}

}  // namespace fp::stack
