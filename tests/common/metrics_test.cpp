#include "common/metrics.h"

#include <gtest/gtest.h>

#include <ctime>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace fp::metrics {
namespace {

TEST(MetricsTest, CounterAndGaugeExpositionIsExact) {
  Registry r;
  r.counter("http_requests_total", "Requests served.", {{"route", "/"}, {"status", "200"}}).inc();
  r.counter("http_requests_total", "ignored: first help wins", {{"status", "500"}, {"route", "/"}}).inc(2);
  // Same labels in another order must be the same series.
  r.counter("http_requests_total", "", {{"status", "200"}, {"route", "/"}}).inc(0.5);
  r.gauge("queue_depth", "Items waiting.").set(-3.25);
  EXPECT_EQ(r.render(),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{route=\"/\",status=\"200\"} 1.5\n"
            "http_requests_total{route=\"/\",status=\"500\"} 2\n"
            "# HELP queue_depth Items waiting.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth -3.25\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry r;
  r.counter("odd_total", "Help with \\ and\nnewline and \"quotes\".", {{"path", "a\\b\"c\"\nd"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP odd_total Help with \\\\ and\\nnewline and \"quotes\".\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"a\\\\b\\\"c\\\"\\nd\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("latency_seconds", "Latency.", {{"route", "/x"}}, {1, 0.1, 0.5});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(0.3);
  h.observe(7);
  EXPECT_EQ(r.render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
            "latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{route=\"/x\"} 7.45\n"
            "latency_seconds_count{route=\"/x\"} 4\n");
}

TEST(MetricsTest, HandlesAreStableAndFamiliesShareBuckets) {
  Registry r;
  auto& a = r.histogram("h", "H.", {{"k", "a"}}, {1, 2});
  auto& b = r.histogram("h", "H.", {{"k", "b"}}, {5});  // buckets of the first registration win
  EXPECT_EQ(&a, &r.histogram("h", "H.", {{"k", "a"}}));
  b.observe(1.5);
  const auto snap = b.snapshot();
  EXPECT_EQ(snap.bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(snap.cumulative, (std::vector<uint64_t>{0, 1, 1}));
}

TEST(MetricsTest, TypeConflictsAndBadNamesAreNotExported) {
  Registry r;
  r.counter("thing", "A counter.").inc();
  r.gauge("thing", "Now a gauge?").set(5);  // rejected: logged, usable, not rendered
  r.counter("bad-name", "x").inc();
  EXPECT_EQ(&r.counter("bad-name", "x"), &r.counter("bad-name", "x"));
  r.counter("ok_total", "x", {{"__reserved", "v"}}).inc();
  EXPECT_EQ(r.render(), "# HELP thing A counter.\n# TYPE thing counter\nthing 1\n");
}

TEST(MetricsTest, CounterIgnoresNegativeIncrements) {
  Registry r;
  auto& c = r.counter("c_total", "C.");
  c.inc(3);
  c.inc(-1);
  EXPECT_EQ(c.value(), 3);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      // Half the threads look the series up every time, the other half cache the handle.
      auto& cached = r.counter("hits_total", "Hits.", {{"shard", "0"}});
      auto& h = r.histogram("obs", "Obs.", {}, {0.5});
      for (int i = 0; i < kPerThread; ++i) {
        if (t % 2 == 0) {
          r.counter("hits_total", "Hits.", {{"shard", "0"}}).inc();
        } else {
          cached.inc();
        }
        h.observe(1);
        if (i % 1000 == 0) (void)r.render();  // scraping concurrently must be safe
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.counter("hits_total", "Hits.", {{"shard", "0"}}).value(), kThreads * kPerThread);
  const auto snap = r.histogram("obs", "Obs.").snapshot();
  EXPECT_EQ(snap.count, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(snap.sum, kThreads * kPerThread);
}

TEST(MetricsTest, FormatValue) {
  EXPECT_EQ(format_value(1.0), "1");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsTest, ProcessMetricsAreRenderedWhenEnabled) {
  Registry with(true);
  const std::string text = with.render();
  for (const char* name :
       {"process_resident_memory_bytes ", "process_start_time_seconds ", "process_cpu_seconds_total "}) {
    const auto pos = text.find(std::string("\n") + name);
    ASSERT_NE(pos, std::string::npos) << name << " missing in:\n" << text;
    const double v = std::stod(text.substr(pos + 1 + std::string(name).size()));
    EXPECT_GT(v, 0) << name;
  }
  // Start time is a Unix timestamp in the past, not ticks since boot.
  const auto st = text.find("\nprocess_start_time_seconds ");
  const double start = std::stod(text.substr(st + 28));
  EXPECT_GT(start, 1.6e9);
  EXPECT_LE(start, static_cast<double>(std::time(nullptr)) + 1);
  EXPECT_EQ(Registry().render(), "");
  EXPECT_NE(default_registry().render().find("process_cpu_seconds_total"), std::string::npos);
}

}  // namespace
}  // namespace fp::metrics

namespace fp::metrics {
namespace {

TEST(MetricsRetainTest, SeriesNotRetainedAreNoLongerRenderedUntilUsedAgain) {
  Registry r;
  Gauge& a = r.gauge("fp_lag", "Lag.", {{"group", "a"}});
  r.gauge("fp_lag", "Lag.", {{"group", "b"}}).set(2);
  a.set(1);
  r.retain("fp_lag", {{{"group", "b"}}});
  EXPECT_EQ(r.render(), "# HELP fp_lag Lag.\n# TYPE fp_lag gauge\nfp_lag{group=\"b\"} 2\n");
  a.set(5);  // the handle stays valid; it is just not exported
  EXPECT_EQ(r.render().find("group=\"a\""), std::string::npos);
  r.gauge("fp_lag", "Lag.", {{"group", "a"}});  // looked up again: exported again
  EXPECT_NE(r.render().find("fp_lag{group=\"a\"} 5"), std::string::npos);
  r.retain("fp_lag", {});
  EXPECT_EQ(r.render(), "# HELP fp_lag Lag.\n# TYPE fp_lag gauge\n");
  r.retain("unknown_family", {});  // nothing to do, no harm
}

}  // namespace
}  // namespace fp::metrics
