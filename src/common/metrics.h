// Prometheus metrics: counters, gauges and histograms with label sets, rendered in the text exposition
// format 0.0.4. Looking a metric up takes a lock, so callers fetch a handle once and keep it; updating a
// handle is a lock-free atomic operation. Handles stay valid for the registry's lifetime.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fp::metrics {

// Label name -> value. Order does not matter: {a,b} and {b,a} name the same series.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // Negative increments are ignored: a counter only goes up (Prometheus relies on that to detect resets).
  void inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds` are the bucket upper bounds (sorted and de-duplicated here; +Inf is implicit).
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then the +Inf bucket (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  // Per-bucket (non-cumulative) counts, the last one for +Inf; made cumulative when rendered so that
  // observe() touches a single bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

// The Prometheus client defaults, suited to request latencies in seconds.
std::vector<double> default_buckets();
// start, start*factor, ... (count values).
std::vector<double> exponential_buckets(double start, double factor, int count);

class Registry {
 public:
  // With process_metrics, render() also reports the process_* metrics of this process.
  explicit Registry(bool process_metrics = false);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Return the series for name + labels, creating it on first use. `help` (and `buckets`) of the first
  // registration win. A name already registered with another type, or an invalid metric/label name, is a
  // programming error: it is logged and a working but unexported metric is returned, so the hot path never
  // has to handle an error.
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, Labels labels = {},
                       std::vector<double> buckets = default_buckets());

  // Stops rendering the series of family `name` whose labels are not in `live` (a consumer group that was
  // deleted, a topic that is gone), so a gauge of something that no longer exists does not keep reporting
  // its last value. Their handles stay valid; looking a series up again renders it again.
  void retain(std::string_view name, const std::vector<Labels>& live);

  // The text exposition format 0.0.4, families sorted by name, series by label values.
  std::string render() const;

 private:
  struct Series;
  struct Family;
  enum class Type { kCounter, kGauge, kHistogram };
  Series& find_or_create(Type type, std::string_view name, std::string_view help, Labels labels,
                         const std::vector<double>* buckets);

  const bool process_metrics_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  // Rejected registrations (by name and type): kept alive for their handles, never rendered.
  std::map<std::string, std::unique_ptr<Family>> orphans_;
};

// The process-wide registry (with process metrics), served by every service's /metrics.
Registry& default_registry();

// Escapes a label value per the exposition format: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);
// Formats a sample value the way Prometheus clients do: shortest round-trip form, +Inf/-Inf/NaN.
std::string format_value(double v);

}  // namespace fp::metrics
