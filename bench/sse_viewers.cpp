// Load client for the realtime dashboard's fan-out: N concurrent Server-Sent Events viewers of /events on
// one Asio io_context (one thread), so the client costs a small fraction of what the server does and its
// own queueing does not pass for the server's.
//
// For every point change of a vehicle in [min-vehicle, max-vehicle) it records
//   total    = arrival here - source_ts_ms (Postgres commit, Debezium's payload.source.ts_ms)  all viewers
//   upstream = record_ts_ms - source_ts_ms (Postgres -> Debezium -> Kafka record)               viewer 0
//   service  = sent_ms - record_ts_ms      (Kafka -> consumed, batched, handed to the sockets) viewer 0
//   delivery = arrival here - sent_ms      (the server's write queues, the kernel, this client)  all viewers
// in 1 ms histogram buckets and prints one JSON object with percentiles at the end. Bounded: loopback only,
// at most 5 000 viewers, stops after --seconds.
//
//   sse_viewers --port 18050 --viewers 500 --seconds 65 [--min-vehicle 0 --max-vehicle 1e18] [--gzip 1]
// With --gzip 1 every viewer asks for a gzip stream, as browsers do, and inflates it; "bytes" then counts
// what travelled, compressed.
#include <sys/resource.h>
#include <zlib.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr size_t kMaxViewers = 5000;
constexpr int64_t kMaxMs = 120'000;  // histogram range; slower samples land in the last bucket

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Histogram {
  std::vector<uint64_t> buckets = std::vector<uint64_t>(kMaxMs + 1, 0);
  uint64_t count = 0;
  void add(int64_t ms) {
    if (ms < 0) ms = 0;  // clocks of one machine; a negative delay is rounding of ms timestamps
    ++buckets[static_cast<size_t>(ms < kMaxMs ? ms : kMaxMs)];
    ++count;
  }
  // The smallest value with at least p% of the samples at or below it; -1 without samples.
  int64_t percentile(double p) const {
    if (count == 0) return -1;
    const auto want = static_cast<uint64_t>(p / 100.0 * static_cast<double>(count - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen >= want) return static_cast<int64_t>(i);
    }
    return kMaxMs;
  }
  std::string json() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "{\"n\":%llu,\"p50\":%lld,\"p90\":%lld,\"p99\":%lld,\"max\":%lld}",
                  static_cast<unsigned long long>(count), static_cast<long long>(percentile(50)),
                  static_cast<long long>(percentile(90)), static_cast<long long>(percentile(99)),
                  static_cast<long long>(percentile(100)));
    return buf;
  }
};

struct Stats {
  Histogram total, upstream, service, delivery;
  uint64_t bytes = 0;
  uint64_t change_events = 0;
  uint64_t malformed = 0;  // change events whose point columns disagree in length, or undecodable streams
  uint64_t snapshots = 0;  // the first of each viewer
  uint64_t resyncs = 0;    // later ones: the server dropped the viewer to a snapshot
  uint64_t connected = 0;
  uint64_t failed = 0;
  uint64_t ended_early = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 18050;
  size_t viewers = 1;
  int seconds = 60;
  int64_t min_vehicle = 0;
  int64_t max_vehicle = INT64_MAX;
  bool gzip = false;  // ask for a gzip stream (as browsers do) and inflate it
};

// The integer after `key` in text, from pos; advances pos past it. nullopt-free: -1 when absent.
int64_t int_after(std::string_view text, std::string_view key, size_t& pos) {
  const size_t k = text.find(key, pos);
  if (k == std::string_view::npos) {
    pos = text.size();
    return -1;
  }
  const char* first = text.data() + k + key.size();
  int64_t v = -1;
  auto [end, ec] = std::from_chars(first, text.data() + text.size(), v);
  pos = static_cast<size_t>(end - text.data());
  return ec == std::errc{} ? v : -1;
}

class Viewer : public std::enable_shared_from_this<Viewer> {
 public:
  Viewer(asio::io_context& io, const Options& o, Stats& stats, size_t index)
      : socket_(io), opts_(o), stats_(stats), index_(index) {}
  ~Viewer() {
    if (inflating_) inflateEnd(&z_);
  }

  void start(const tcp::resolver::results_type& endpoints) {
    asio::async_connect(socket_, endpoints, [self = shared_from_this()](auto ec, const auto&) {
      if (ec) {
        ++self->stats_.failed;
        return;
      }
      ++self->stats_.connected;
      self->request_ = "GET /events HTTP/1.1\r\nHost: " + self->opts_.host +
                       "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n" +
                       (self->opts_.gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
      asio::async_write(self->socket_, asio::buffer(self->request_), [self](auto wec, size_t) {
        if (wec) {
          ++self->stats_.failed;
          return;
        }
        self->read();
      });
    });
  }

  void stop() {
    stopped_ = true;
    boost::system::error_code ignored;  // the peer may have gone already
    socket_.close(ignored);
  }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) {
                                if (!self->stopped_) ++self->stats_.ended_early;
                                return;
                              }
                              self->stats_.bytes += n;
                              if (!self->ingest(self->chunk_.data(), n)) {
                                ++self->stats_.malformed;
                                return;  // an undecodable stream: stop reading it
                              }
                              self->parse(wall_ms());
                              self->read();
                            });
  }

  // Received bytes into buf_: as they are, or (--gzip) the head as it is and the body inflated.
  bool ingest(const char* p, size_t n) {
    if (!opts_.gzip || inflating_) return opts_.gzip ? inflate_into_buf(p, n) : (append(p, n), true);
    head_buf_.append(p, n);
    const size_t h = head_buf_.find("\r\n\r\n");
    if (h == std::string::npos) return true;
    append(head_buf_.data(), h + 4);
    if (inflateInit2(&z_, 15 + 16) != Z_OK) return false;
    inflating_ = true;
    const bool ok = inflate_into_buf(head_buf_.data() + h + 4, head_buf_.size() - h - 4);
    head_buf_.clear();
    return ok;
  }

  void reserve(size_t want) {
    if (buf_.size() - end_ >= want) return;
    // Compact, then grow: the unparsed tail moves to the front.
    buf_.erase(0, begin_);
    end_ -= begin_;
    begin_ = 0;
    if (buf_.size() - end_ < want) buf_.resize(end_ + std::max<size_t>(want, 256 * 1024));
  }

  void append(const char* p, size_t n) {
    reserve(n);
    std::memcpy(buf_.data() + end_, p, n);
    end_ += n;
  }

  bool inflate_into_buf(const char* p, size_t n) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    z_.avail_in = static_cast<uInt>(n);
    while (true) {
      reserve(64 * 1024);
      z_.next_out = reinterpret_cast<Bytef*>(buf_.data() + end_);
      z_.avail_out = static_cast<uInt>(buf_.size() - end_);
      const uInt room = z_.avail_out;
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      end_ += room - z_.avail_out;
      if (rc == Z_BUF_ERROR || (rc == Z_OK && z_.avail_in == 0 && z_.avail_out > 0)) return true;
      if (rc != Z_OK) return false;  // Z_STREAM_END would be a final block: the server never sends one
    }
  }

  void parse(int64_t now) {
    std::string_view data(buf_.data(), end_);
    if (!head_done_) {
      const size_t h = data.find("\r\n\r\n", begin_);
      if (h == std::string_view::npos) return;
      begin_ = h + 4;
      head_done_ = true;
    }
    while (true) {
      // Resume the search where the last one stopped: a multi-megabyte snapshot arrives in many reads, and
      // searching it from its start after each read made the client quadratic in the event's size.
      const size_t e = data.find("\n\n", begin_ + (scanned_ > 0 ? scanned_ - 1 : 0));
      if (e == std::string_view::npos) {
        scanned_ = end_ - begin_;
        return;
      }
      event(data.substr(begin_, e - begin_), now);
      begin_ = e + 2;
      scanned_ = 0;
    }
  }

  void event(std::string_view block, int64_t now) {
    if (block.starts_with("event: snapshot")) {
      ++(got_snapshot_ ? stats_.resyncs : stats_.snapshots);
      got_snapshot_ = true;
      return;
    }
    if (!block.starts_with("event: changes")) return;  // keep-alive comments
    // Appended points are columns (realtime/wire.h): ids, and ages relative to sent_ms.
    ++stats_.change_events;
    size_t pos = 0;
    const int64_t sent = int_after(block, "\"sent_ms\":", pos);
    ints_after(block, "\"vehicle\":[", vehicles_);
    ints_after(block, "\"source_age_ms\":[", source_ages_);
    ints_after(block, "\"record_age_ms\":[", record_ages_);
    if (source_ages_.size() != vehicles_.size() || record_ages_.size() != vehicles_.size()) {
      ++stats_.malformed;
      return;
    }
    for (size_t i = 0; i < vehicles_.size(); ++i) {
      const int64_t source = source_ages_[i] == kNull ? 0 : sent - source_ages_[i];
      const int64_t record = record_ages_[i] == kNull ? 0 : sent - record_ages_[i];
      record_point(vehicles_[i], source, record, sent, now);
    }
  }

  // The integers of the JSON array after `key` (null as kNull) into `out`.
  static constexpr int64_t kNull = INT64_MIN;
  static void ints_after(std::string_view text, std::string_view key, std::vector<int64_t>& out) {
    out.clear();
    const size_t k = text.find(key);
    if (k == std::string_view::npos) return;
    const char* p = text.data() + k + key.size();
    const char* end = text.data() + text.size();
    while (p < end && *p != ']') {
      if (*p == ',') {
        ++p;
      } else if (*p == 'n') {
        out.push_back(kNull);
        p += 4;
      } else {
        int64_t v = 0;
        auto [next, ec] = std::from_chars(p, end, v);
        if (ec != std::errc{}) return;
        out.push_back(v);
        p = next;
      }
    }
  }

  void record_point(int64_t vehicle, int64_t source, int64_t record, int64_t sent, int64_t now) {
    if (vehicle < opts_.min_vehicle || vehicle >= opts_.max_vehicle || source <= 0) return;
    stats_.total.add(now - source);
    if (sent > 0) stats_.delivery.add(now - sent);
    if (index_ == 0 && record > 0) {
      stats_.upstream.add(record - source);
      if (sent > 0) stats_.service.add(sent - record);
    }
  }

  tcp::socket socket_;
  const Options& opts_;
  Stats& stats_;
  size_t index_;
  std::string request_;
  std::string buf_;
  size_t begin_ = 0;    // first unparsed byte
  size_t end_ = 0;      // end of the received bytes
  size_t scanned_ = 0;  // bytes from begin_ already searched for the end of an event
  std::vector<int64_t> vehicles_, source_ages_, record_ages_;  // of the event being parsed
  std::array<char, 64 * 1024> chunk_{};
  std::string head_buf_;  // --gzip: the response head until complete
  z_stream z_{};
  bool inflating_ = false;
  bool head_done_ = false;
  bool got_snapshot_ = false;
  bool stopped_ = false;
};

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host") {
      o.host = v;
    } else if (k == "--port") {
      o.port = static_cast<uint16_t>(std::atoi(v));
    } else if (k == "--viewers") {
      o.viewers = static_cast<size_t>(std::atoll(v));
    } else if (k == "--seconds") {
      o.seconds = std::atoi(v);
    } else if (k == "--min-vehicle") {
      o.min_vehicle = std::atoll(v);
    } else if (k == "--max-vehicle") {
      o.max_vehicle = std::atoll(v);
    } else if (k == "--gzip") {
      o.gzip = std::atoi(v) != 0;
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return false;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "options come in pairs: --name value\n");
    return false;
  }
  if (o.host != "127.0.0.1" && o.host != "localhost" && o.host != "::1") {
    std::fprintf(stderr, "loopback only: --host must be 127.0.0.1, localhost or ::1\n");
    return false;
  }
  if (o.viewers < 1 || o.viewers > kMaxViewers || o.seconds < 1 || o.seconds > 3600 || o.port == 0) {
    std::fprintf(stderr, "--viewers 1..%zu, --seconds 1..3600, --port required\n", kMaxViewers);
    return false;
  }
  return true;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!parse_args(argc, argv, opts)) return 2;
  asio::io_context io(1);
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(opts.host, std::to_string(opts.port), ec);
  if (ec) {
    std::fprintf(stderr, "resolve %s: %s\n", opts.host.c_str(), ec.message().c_str());
    return 1;
  }
  Stats stats;
  std::vector<std::shared_ptr<Viewer>> viewers;
  viewers.reserve(opts.viewers);
  for (size_t i = 0; i < opts.viewers; ++i) {
    viewers.push_back(std::make_shared<Viewer>(io, opts, stats, i));
    viewers.back()->start(endpoints);
  }
  asio::steady_timer deadline(io, std::chrono::seconds(opts.seconds));
  deadline.async_wait([&](boost::system::error_code) {
    for (auto& v : viewers) v->stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  io.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "{\"viewers\":%zu,\"connected\":%llu,\"failed\":%llu,\"ended_early\":%llu,\"snapshots\":%llu,"
      "\"resyncs\":%llu,\"change_events\":%llu,\"malformed\":%llu,\"bytes\":%llu,\"client_cpu_s\":%.2f,"
      "\"wall_s\":%.1f,"
      "\"total_ms\":%s,\"upstream_ms\":%s,\"service_ms\":%s,\"delivery_ms\":%s}\n",
      opts.viewers, static_cast<unsigned long long>(stats.connected),
      static_cast<unsigned long long>(stats.failed), static_cast<unsigned long long>(stats.ended_early),
      static_cast<unsigned long long>(stats.snapshots), static_cast<unsigned long long>(stats.resyncs),
      static_cast<unsigned long long>(stats.change_events), static_cast<unsigned long long>(stats.malformed),
      static_cast<unsigned long long>(stats.bytes), cpu_seconds(), wall, stats.total.json().c_str(),
      stats.upstream.json().c_str(), stats.service.json().c_str(), stats.delivery.json().c_str());
  return stats.connected == opts.viewers && stats.malformed == 0 ? 0 : 1;
}
