#include "common/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "common/escape.h"
#include "common/log.h"
#include "common/metrics_process.h"

namespace fp::metrics {
namespace {

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view n) {
  if (n.empty() || n.rfind("__", 0) == 0) return false;  // "__" prefixed names are reserved
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// HELP text escapes backslash and newline only (quotes are fine there).
std::string escape_help(std::string_view h) {
  std::string out;
  out.reserve(h.size());
  for (char c : h) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_labels(std::string& out, const Labels& labels, const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && extra == nullptr) return;
  out += '{';
  bool first = true;
  auto one = [&](const std::pair<std::string, std::string>& l) {
    if (!first) out += ',';
    first = false;
    out += l.first;
    out += "=\"";
    out += escape_label_value(l.second);
    out += '"';
  };
  for (const auto& l : labels) one(l);
  if (extra) one(*extra);
  out += '}';
}

void atomic_add(std::atomic<double>& a, double v) {
  a.fetch_add(v, std::memory_order_relaxed);
}

}  // namespace

void Counter::inc(double v) {
  if (v >= 0) atomic_add(value_, v);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  // +Inf is always the implicit last bucket; an explicit one would render twice.
  while (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // le is inclusive: a value equal to a bound belongs to that bucket.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  counts_[static_cast<size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The count is derived from the buckets so that _count always equals the +Inf bucket in one scrape.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> default_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

std::string escape_label_value(std::string_view v) {
  // The exposition format's three escapes in label values.
  static constexpr EscapeTable kLabel{{'\\', "\\\\"}, {'"', "\\\""}, {'\n', "\\n"}};
  return kLabel.escape(v);
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);  // shortest representation that round-trips, "1" rather than "1.0"
}

struct Registry::Series {
  Labels labels;
  std::atomic<bool> retired{false};  // retain() left it out: not rendered until looked up again
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

struct Registry::Family {
  std::string name;
  std::string help;
  Type type;
  std::vector<double> buckets;
  std::map<Labels, Series> series;  // keyed by sorted labels, which also orders the rendered output
};

Registry::Registry(bool process_metrics) : process_metrics_(process_metrics) {}
Registry::~Registry() = default;

Registry::Series& Registry::find_or_create(Type type, std::string_view name, std::string_view help,
                                           Labels labels, const std::vector<double>* buckets) {
  std::sort(labels.begin(), labels.end());
  {
    std::shared_lock lock(mu_);
    const auto f = families_.find(name);
    if (f != families_.end() && f->second->type == type) {
      const auto s = f->second->series.find(labels);
      if (s != f->second->series.end()) {
        s->second.retired.store(false, std::memory_order_relaxed);
        return s->second;
      }
    }
  }
  std::unique_lock lock(mu_);
  std::string problem;
  if (!valid_metric_name(name)) problem = "invalid metric name";
  for (size_t i = 0; i < labels.size() && problem.empty(); ++i) {
    if (!valid_label_name(labels[i].first)) problem = "invalid label name \"" + labels[i].first + "\"";
    if (i > 0 && labels[i].first == labels[i - 1].first) problem = "duplicate label " + labels[i].first;
  }
  auto it = families_.find(name);
  if (problem.empty() && it != families_.end() && it->second->type != type) {
    problem = "already registered with another type";
  }
  Family* family = nullptr;
  if (!problem.empty()) {
    // One orphan family per bad name+type, so a caller that looks up on every use doesn't grow memory.
    auto [orphan, created] = orphans_.try_emplace(fmt::format("{}\x1f{}", name, static_cast<int>(type)));
    if (created) {
      log::error("metrics", "metric \"{}\": {}; it will not be exported", name, problem);
      orphan->second = std::make_unique<Family>();
      orphan->second->type = type;
    }
    family = orphan->second.get();
  } else if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = std::string(name);
    f->help = std::string(help);
    f->type = type;
    if (buckets) f->buckets = *buckets;
    family = f.get();
    families_.emplace(f->name, std::move(f));
  } else {
    family = it->second.get();
  }
  auto [pos, inserted] = family->series.try_emplace(labels);
  Series& s = pos->second;
  s.retired.store(false, std::memory_order_relaxed);
  if (inserted) {
    s.labels = std::move(labels);
    switch (type) {
      case Type::kCounter:
        s.counter = std::make_unique<Counter>();
        break;
      case Type::kGauge:
        s.gauge = std::make_unique<Gauge>();
        break;
      // Every series of a family shares the family's buckets, so their le labels line up.
      case Type::kHistogram:
        s.histogram =
            std::make_unique<Histogram>(family->buckets.empty() && buckets ? *buckets : family->buckets);
        break;
    }
  }
  return s;
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  return *find_or_create(Type::kCounter, name, help, std::move(labels), nullptr).counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  return *find_or_create(Type::kGauge, name, help, std::move(labels), nullptr).gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, Labels labels,
                               std::vector<double> buckets) {
  return *find_or_create(Type::kHistogram, name, help, std::move(labels), &buckets).histogram;
}

std::string Registry::render() const {
  std::string out;
  std::shared_lock lock(mu_);
  for (const auto& [name, f] : families_) {
    static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(f->help), name,
                       kTypeNames[static_cast<int>(f->type)]);
    for (const auto& [labels, s] : f->series) {
      if (s.retired.load(std::memory_order_relaxed)) continue;
      if (s.counter || s.gauge) {
        out += name;
        append_labels(out, labels, nullptr);
        out += ' ';
        out += format_value(s.counter ? s.counter->value() : s.gauge->value());
        out += '\n';
        continue;
      }
      const auto snap = s.histogram->snapshot();
      for (size_t i = 0; i < snap.cumulative.size(); ++i) {
        const std::pair<std::string, std::string> le{
            "le", i < snap.bounds.size() ? format_value(snap.bounds[i]) : "+Inf"};
        out += name;
        out += "_bucket";
        append_labels(out, labels, &le);
        out += fmt::format(" {}\n", snap.cumulative[i]);
      }
      out += name + "_sum";
      append_labels(out, labels, nullptr);
      out += " " + format_value(snap.sum) + "\n";
      out += name + "_count";
      append_labels(out, labels, nullptr);
      out += fmt::format(" {}\n", snap.count);
    }
  }
  lock.unlock();
  if (process_metrics_) out += render_process_metrics();
  return out;
}

void Registry::retain(std::string_view name, const std::vector<Labels>& live) {
  std::vector<Labels> keep = live;
  for (auto& l : keep) std::sort(l.begin(), l.end());
  std::sort(keep.begin(), keep.end());
  std::shared_lock lock(mu_);  // the flags are atomic; the maps do not change
  const auto f = families_.find(name);
  if (f == families_.end()) return;
  for (auto& [labels, s] : f->second->series)
    s.retired.store(!std::binary_search(keep.begin(), keep.end(), labels), std::memory_order_relaxed);
}

Registry& default_registry() {
  // Intentionally leaked: handles cached in static objects may be used during static destruction.
  static auto* registry = new Registry(/*process_metrics=*/true);
  return *registry;
}

}  // namespace fp::metrics
