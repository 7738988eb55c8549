#include "common/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "common/http/client.h"
#include "common/metrics.h"
#include "common/shutdown.h"

namespace fp::httpd {
namespace {

using namespace std::chrono_literals;

// A raw TCP client, for requests the curl client would normalise or refuse to send.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until the peer closes or `limit` passes; `closed` tells which.
  std::string read_until_close(std::chrono::milliseconds limit, bool* closed = nullptr) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + limit;
    if (closed) *closed = false;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until `needle` shows up (or the time limit passes).
  std::string read_until(std::string_view needle, std::chrono::milliseconds limit) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (out.find(needle) == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions opts = {}) {
    opts.port = 0;
    opts.metrics = &registry_;
    server_ = std::make_unique<Server>(std::move(opts));
    add_routes();
    auto st = server_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_NE(server_->port(), 0);
  }
  // The streams a server's /events opened, in order, for tests that drive SSE from outside.
  struct OpenedStreams {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::shared_ptr<SseStream>> list;
    // The first n streams, once that many are open (fewer when `limit` passed first).
    std::vector<std::shared_ptr<SseStream>> wait(size_t n, std::chrono::milliseconds limit = 5s) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, limit, [&] { return list.size() >= n; });
      return {list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min(n, list.size()))};
    }
  };
  // Starts a server with just /events, which collects every stream it opens.
  std::shared_ptr<OpenedStreams> start_sse_server(ServerOptions opts) {
    opts.port = 0;
    opts.metrics = &registry_;
    auto opened = std::make_shared<OpenedStreams>();
    server_ = std::make_unique<Server>(opts);
    EXPECT_TRUE(server_
                    ->get("/events",
                          [opened](const Request&) {
                            return Response::event_stream([opened](std::shared_ptr<SseStream> s) {
                              {
                                std::lock_guard lock(opened->mu);
                                opened->list.push_back(std::move(s));
                              }
                              opened->cv.notify_all();
                            });
                          })
                    .ok());
    EXPECT_TRUE(server_->start().ok());
    return opened;
  }

  virtual void add_routes() {
    ASSERT_TRUE(server_
                    ->get("/api/vehicles/{id}/trips",
                          [](const Request& req) {
                            nlohmann::json tags = nlohmann::json::array();
                            auto [b, e] = req.query.equal_range("tag");
                            for (auto it = b; it != e; ++it) tags.push_back(it->second);
                            return Response::json(
                                200, {{"id", req.params.at("id")},
                                      {"route", req.route},
                                      {"path", req.path},
                                      {"from", req.query_value("from") ? *req.query_value("from") : ""},
                                      {"tags", tags},
                                      {"agent", req.header("User-Agent") ? "yes" : "no"},
                                      {"remote", req.remote_address}});
                          })
                    .ok());
    ASSERT_TRUE(
        server_->post("/echo", [](const Request& req) { return Response::text(200, req.body); }).ok());
  }
  std::string url(std::string_view path) const {
    return fmt::format("http://127.0.0.1:{}{}", server_->port(), path);
  }

  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
};

TEST_F(HttpServerTest, RoutesWithPathParamsAndQuery) {
  start();
  auto r = http::get(url("/api/vehicles/v%2D7/trips?from=2024-01-01&tag=a%20b&tag=c+d"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["id"], "v-7");
  EXPECT_EQ(j["route"], "/api/vehicles/{id}/trips");
  EXPECT_EQ(j["path"], "/api/vehicles/v-7/trips");
  EXPECT_EQ(j["from"], "2024-01-01");
  EXPECT_EQ(j["tags"], (nlohmann::json{"a b", "c d"}));
  EXPECT_EQ(j["remote"], "127.0.0.1");
  ASSERT_NE(r->header("content-type"), nullptr);
  EXPECT_EQ(*r->header("content-type"), "application/json");
  // Security headers on every response.
  ASSERT_NE(r->header("x-content-type-options"), nullptr);
  EXPECT_EQ(*r->header("x-content-type-options"), "nosniff");
  EXPECT_EQ(*r->header("x-frame-options"), "DENY");
  EXPECT_NE(r->header("referrer-policy"), nullptr);
  EXPECT_NE(r->header("content-security-policy"), nullptr);

  auto echo = http::send("POST", url("/echo"), "hello body", "text/plain");
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->status, 200);
  EXPECT_EQ(echo->body, "hello body");
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowedWithAllow) {
  start();
  auto nf = http::get(url("/nope"));
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(*nf->header("x-frame-options"), "DENY");

  auto na = http::send("DELETE", url("/api/vehicles/1/trips"), "");
  ASSERT_TRUE(na.ok());
  EXPECT_EQ(na->status, 405);
  ASSERT_NE(na->header("allow"), nullptr);
  EXPECT_EQ(*na->header("allow"), "GET, HEAD");

  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send_all("GET /bad%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(raw.read_until_close(3s).rfind("HTTP/1.1 400", 0), 0u);
}

TEST_F(HttpServerTest, HeadAnswersWithoutBody) {
  start();
  RawClient raw(server_->port());
  ASSERT_TRUE(
      raw.send_all("HEAD /api/vehicles/1/trips HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  const std::string resp = raw.read_until_close(3s);
  EXPECT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  const auto end_of_head = resp.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos);
  EXPECT_EQ(resp.size(), end_of_head + 4) << "HEAD must not carry a body";
  EXPECT_NE(resp.find("Content-Length: "), std::string::npos);
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  ServerOptions opts;
  opts.max_body_bytes = 1024;
  start(opts);
  auto small = http::send("POST", url("/echo"), std::string(1000, 'x'), "text/plain");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->status, 200);
  auto big = http::send("POST", url("/echo"), std::string(256 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->status, 413);

  // Chunked bodies have no Content-Length up front; the limit applies as they arrive.
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send_all("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 4096, std::string(4096, 'y'));
  raw.send_all(chunk);
  EXPECT_EQ(raw.read_until_close(3s).rfind("HTTP/1.1 413", 0), 0u);
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  ServerOptions opts;
  opts.max_header_bytes = 1024;
  start(opts);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(4096, 'a') +
                           "\r\n\r\n"));
  EXPECT_EQ(raw.read_until_close(3s).rfind("HTTP/1.1 431", 0), 0u);
}

TEST_F(HttpServerTest, StalledRequestTimesOutWith408) {
  ServerOptions opts;
  opts.read_timeout = 300ms;
  start(opts);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));  // the head never ends
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  const std::string resp = raw.read_until_close(5s, &closed);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(resp.rfind("HTTP/1.1 408", 0), 0u) << resp;
  EXPECT_TRUE(closed);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions opts;
  opts.idle_timeout = 300ms;
  start(opts);
  RawClient raw(server_->port());
  // Two requests on one connection (keep-alive), then silence.
  ASSERT_TRUE(raw.send_all(
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  bool closed = false;
  const std::string resp = raw.read_until_close(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(resp.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(resp.find("HTTP/1.1 404"), std::string::npos);
  EXPECT_EQ(resp.find("408"), std::string::npos) << "an idle connection is closed, not answered";
}

// DNS rebinding: a page whose name points at 127.0.0.1 sends its own name as Host. Names other than
// localhost and those allowed get 421; IP literals of the bound address (and loopback for a loopback bind)
// pass; a request without Host is refused too.
TEST_F(HttpServerTest, AHostOtherThanTheBoundAddressOrLocalhostGets421) {
  ServerOptions opts;
  opts.allowed_hosts = {"Fleet.Internal"};
  start(opts);
  auto status_for = [&](const std::string& head) {
    RawClient raw(server_->port());
    EXPECT_TRUE(raw.send_all("GET /healthz HTTP/1.1\r\n" + head + "Connection: close\r\n\r\n"));
    const std::string resp = raw.read_until_close(3s);
    return resp.substr(0, 12);
  };
  EXPECT_EQ(status_for("Host: 127.0.0.1\r\n"), "HTTP/1.1 200");
  EXPECT_EQ(status_for(fmt::format("Host: 127.0.0.1:{}\r\n", server_->port())), "HTTP/1.1 200");
  EXPECT_EQ(status_for("Host: LOCALHOST:99\r\n"), "HTTP/1.1 200");
  EXPECT_EQ(status_for("Host: 127.0.0.2\r\n"), "HTTP/1.1 200");  // loopback, bound to loopback
  EXPECT_EQ(status_for("Host: fleet.internal:8080\r\n"), "HTTP/1.1 200");
  EXPECT_EQ(status_for("Host: attacker.example\r\n"), "HTTP/1.1 421");
  EXPECT_EQ(status_for("Host: localhost.attacker.example\r\n"), "HTTP/1.1 421");
  EXPECT_EQ(status_for("Host: 10.1.2.3\r\n"), "HTTP/1.1 421");
  EXPECT_EQ(status_for("Host: 127.0.0.1:80:80\r\n"), "HTTP/1.1 421");
  EXPECT_EQ(status_for(""), "HTTP/1.1 421");
  // The refusal is counted like any answer.
  EXPECT_NE(registry_.render().find("status=\"421\""), std::string::npos);
}

// Past max_connections a connection is answered 503 (with Retry-After) and closed; the ones already open
// are served, and once they go a new one is served again.
TEST_F(HttpServerTest, ConnectionsPastTheCapGet503) {
  ServerOptions opts;
  opts.max_connections = 2;
  start(opts);
  auto a = std::make_unique<RawClient>(server_->port());
  auto b = std::make_unique<RawClient>(server_->port());
  ASSERT_TRUE(a->connected() && b->connected());
  std::this_thread::sleep_for(200ms);  // both accepted
  RawClient c(server_->port());
  ASSERT_TRUE(c.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  bool closed = false;
  const std::string refused = c.read_until_close(3s, &closed);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  EXPECT_TRUE(closed);
  ASSERT_TRUE(a->send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(a->read_until_close(3s).rfind("HTTP/1.1 200", 0), 0u);
  a.reset();
  b.reset();
  std::this_thread::sleep_for(200ms);  // both closed on the server's side
  RawClient d(server_->port());
  ASSERT_TRUE(d.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(d.read_until_close(3s).rfind("HTTP/1.1 200", 0), 0u);
}

// A connection that never sends a byte is closed after the idle timeout (10 s by default).
TEST_F(HttpServerTest, ASilentConnectionIsClosedAfterTheIdleTimeout) {
  EXPECT_EQ(ServerOptions{}.idle_timeout, 10s);
  ServerOptions opts;
  opts.idle_timeout = 300ms;
  start(opts);
  RawClient raw(server_->port());
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  EXPECT_EQ(raw.read_until_close(5s, &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(HttpServerTest, HealthzReports200And503) {
  auto healthy = std::make_shared<std::atomic<bool>>(true);
  auto throws = std::make_shared<std::atomic<bool>>(false);
  ServerOptions opts;
  opts.health = [healthy, throws] {
    if (throws->load()) throw std::runtime_error("pool exhausted");
    return Health{healthy->load(), {{"postgres", healthy->load() ? "up" : "connection refused"}}};
  };
  start(opts);
  auto ok = http::get(url("/healthz"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok->body),
            (nlohmann::json{{"status", "ok"}, {"detail", {{"postgres", "up"}}}}));
  healthy->store(false);
  auto bad = http::get(url("/healthz"));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 503);
  EXPECT_EQ(nlohmann::json::parse(bad->body)["detail"]["postgres"], "connection refused");
  EXPECT_EQ(nlohmann::json::parse(bad->body)["status"], "fail");
  throws->store(true);
  auto threw = http::get(url("/healthz"));
  ASSERT_TRUE(threw.ok());
  EXPECT_EQ(threw->status, 503);
  EXPECT_EQ(nlohmann::json::parse(threw->body)["detail"]["error"], "pool exhausted");
}

TEST_F(HttpServerTest, MetricsCallsItsHookBeforeRendering) {
  // A gauge that is a function of the time of reading is set by the hook, then rendered.
  ServerOptions opts;
  auto& read_at = registry_.gauge("test_read_at", "Set when /metrics is read");
  opts.before_metrics = [&read_at] { read_at.inc(); };
  start(opts);
  for (int expected : {1, 2}) {
    auto m = http::get(url("/metrics"));
    ASSERT_TRUE(m.ok());
    EXPECT_NE(m->body.find(fmt::format("test_read_at {}\n", expected)), std::string::npos) << m->body;
  }
}

TEST_F(HttpServerTest, MetricsEndpointRecordsPerRoutePattern) {
  start();
  for (const char* id : {"1", "2", "3"}) {
    auto r = http::get(url(fmt::format("/api/vehicles/{}/trips", id)));
    ASSERT_TRUE(r.ok());
  }
  auto nf = http::get(url("/missing"));
  ASSERT_TRUE(nf.ok());
  // A request is counted once its answer has been written, which can be a moment after the client has read
  // it, and each request has its own connection, so they can be counted in any order: scrape until every
  // request shows up (bounded), then check everything.
  const std::string trips =
      "http_requests_total{method=\"GET\",route=\"/api/vehicles/{id}/trips\",status=\"200\"} 3\n";
  const std::string missing = "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n";
  auto counted = [&](const std::string& body) {
    return body.find(trips) != std::string::npos && body.find(missing) != std::string::npos;
  };
  auto m = http::get(url("/metrics"));
  for (int i = 0; i < 100 && m.ok() && !counted(m->body); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    m = http::get(url("/metrics"));
  }
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  ASSERT_NE(m->header("content-type"), nullptr);
  EXPECT_EQ(m->header("content-type")->rfind("text/plain; version=0.0.4", 0), 0u);
  const std::string& body = m->body;
  EXPECT_NE(body.find("# TYPE http_requests_total counter\n"), std::string::npos) << body;
  EXPECT_NE(
      body.find("http_requests_total{method=\"GET\",route=\"/api/vehicles/{id}/trips\",status=\"200\"} 3\n"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(
      body.find("http_request_duration_seconds_count{method=\"GET\",route=\"/api/vehicles/{id}/trips\"} 3\n"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find("http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/vehicles/{id}/"
                      "trips\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_EQ(body.find("/api/vehicles/1/trips"), std::string::npos) << "raw paths must not become labels";
}

class HttpStaticTest : public HttpServerTest {
 protected:
  void SetUp() override {
    base_ = std::filesystem::temp_directory_path() / fmt::format("fp_static_{}_{}", getpid(), counter_++);
    std::filesystem::create_directories(base_ / "www" / "css");
    write(base_ / "www" / "index.html", "<h1>dashboard</h1>");
    write(base_ / "www" / "app.js", "console.log(1)");
    write(base_ / "www" / "css" / "site.css", "body{}");
    write(base_ / "www" / ".env", "PASSWORD=hunter2");
    write(base_ / "secret.txt", "TOP SECRET");
    std::filesystem::create_symlink(base_ / "secret.txt", base_ / "www" / "link.txt");
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(base_, ec);
  }
  void add_routes() override {
    HttpServerTest::add_routes();
    ASSERT_TRUE(server_->serve_static("/static", base_ / "www", cache_options()).ok());
  }
  static StaticOptions cache_options() {
    StaticOptions o;
    o.cache_control = "public, max-age=60";
    return o;
  }
  static void write(const std::filesystem::path& p, std::string_view s) { std::ofstream(p) << s; }
  std::string raw_get(std::string_view target) {
    RawClient raw(server_->port());
    raw.send_all(fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target));
    return raw.read_until_close(3s);
  }
  static inline int counter_ = 0;
  std::filesystem::path base_;
};

TEST_F(HttpStaticTest, ServesFilesWithTypesAndValidators) {
  start();
  auto js = http::get(url("/static/app.js"));
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->body, "console.log(1)");
  EXPECT_EQ(*js->header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(*js->header("cache-control"), "public, max-age=60");
  ASSERT_NE(js->header("etag"), nullptr);
  ASSERT_NE(js->header("last-modified"), nullptr);

  auto css = http::get(url("/static/css/site.css"));
  ASSERT_TRUE(css.ok());
  EXPECT_EQ(*css->header("content-type"), "text/css; charset=utf-8");
  auto index = http::get(url("/static/"));
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<h1>dashboard</h1>");
  EXPECT_EQ(*index->header("content-type"), "text/html; charset=utf-8");

  http::Request cond;
  cond.url = url("/static/app.js");
  cond.headers = {{"If-None-Match", *js->header("etag")}};
  auto not_modified = http::perform(cond);
  ASSERT_TRUE(not_modified.ok());
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->body, "");
  EXPECT_EQ(*not_modified->header("etag"), *js->header("etag"));

  cond.headers = {{"If-None-Match", "\"something-else\""}};
  auto changed = http::perform(cond);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->status, 200);

  cond.headers = {{"If-Modified-Since", *js->header("last-modified")}};
  auto since = http::perform(cond);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->status, 304);
}

TEST_F(HttpStaticTest, RefusesTraversalDotfilesAndSymlinksOut) {
  start();
  for (const char* target : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
                             "/static/css/../../secret.txt", "/static/.env", "/static/link.txt",
                             "/static/..%5csecret.txt", "/static/missing.js"}) {
    const std::string resp = raw_get(target);
    EXPECT_EQ(resp.rfind("HTTP/1.1 404", 0), 0u) << target << "\n" << resp;
    EXPECT_EQ(resp.find("TOP SECRET"), std::string::npos) << target;
    EXPECT_EQ(resp.find("hunter2"), std::string::npos) << target;
  }
}

TEST_F(HttpServerTest, SseStreamReceivesEventsFromAnotherThreadAndNoticesDisconnect) {
  ServerOptions opts;
  opts.sse_keepalive = 100ms;
  server_ = nullptr;
  auto opened = std::make_shared<std::promise<std::shared_ptr<SseStream>>>();
  auto gone = std::make_shared<std::promise<void>>();
  opts.port = 0;
  opts.metrics = &registry_;
  server_ = std::make_unique<Server>(opts);
  ASSERT_TRUE(server_
                  ->get("/events",
                        [opened, gone](const Request&) {
                          return Response::event_stream([opened, gone](std::shared_ptr<SseStream> s) {
                            s->on_close([gone] { gone->set_value(); });
                            opened->set_value(s);
                          });
                        })
                  .ok());
  ASSERT_TRUE(server_->start().ok());

  std::string received;
  std::promise<void> saw_all;
  std::thread client([&] {
    http::Request req;
    req.url = url("/events");
    req.timeout = 10s;
    bool done = false;
    auto r = http::perform(req, [&](const char* data, size_t n) {
      received.append(data, n);
      if (!done && received.find("data: two\n\n") != std::string::npos &&
          received.find(": keepalive") != std::string::npos) {
        done = true;
        saw_all.set_value();
        return false;  // aborts the transfer: the client goes away
      }
      return true;
    });
    if (!done) saw_all.set_value();
  });

  auto opened_future = opened->get_future();
  ASSERT_EQ(opened_future.wait_for(5s), std::future_status::ready);
  auto stream = opened_future.get();
  std::thread sender([stream] {
    EXPECT_TRUE(stream->send("tick", "one", "1"));
    EXPECT_TRUE(stream->send("tick", "two", "2"));
  });
  sender.join();
  auto saw = saw_all.get_future();
  EXPECT_EQ(saw.wait_for(5s), std::future_status::ready);
  client.join();
  EXPECT_NE(received.find("id: 1\nevent: tick\ndata: one\n\n"), std::string::npos) << received;
  EXPECT_NE(received.find("id: 2\nevent: tick\ndata: two\n\n"), std::string::npos) << received;

  // The server notices the client going away (the read side sees EOF).
  EXPECT_EQ(gone->get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->send("tick", "three"));
}

// Inflates a gzip member piece by piece, as a browser decodes a compressed event stream while it arrives.
class GunzipStream {
 public:
  GunzipStream() { ok_ = inflateInit2(&z_, 15 + 16) == Z_OK; }
  ~GunzipStream() { inflateEnd(&z_); }
  bool feed(const char* data, size_t n, std::string& out) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(n);
    while (ok_ && z_.avail_in > 0) {
      char buf[16384];
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) ok_ = false;  // Z_STREAM_END would be a final block: never sent
      out.append(buf, sizeof buf - z_.avail_out);
      if (rc == Z_BUF_ERROR) break;
    }
    return ok_;
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

TEST_F(HttpServerTest, SseStreamIsGzippedForClientsThatAcceptItWithSharedFramesCompressedOnce) {
  auto opened = start_sse_server({});
  RawClient zipped(server_->port()), plain(server_->port());
  ASSERT_TRUE(zipped.send_all(
      "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"));
  ASSERT_TRUE(plain.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto streams = opened->wait(2);
  ASSERT_EQ(streams.size(), 2u);
  // A shared frame big and repetitive enough to show the compression, and per-stream events around it.
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "{\"lat\":[49.25,49.26],\"lon\":[-123.1,-123.2]}";
  const SseFrame shared = sse_frame("snapshot", big);
  for (const auto& s : streams) {
    EXPECT_TRUE(s->send("tick", "one"));
    EXPECT_EQ(s->send_frame(shared), SseStream::SendResult::kQueued);
    EXPECT_TRUE(s->send("tick", "three"));
  }
  const std::string zipped_raw = zipped.read_until_close(1s), plain_raw = plain.read_until_close(1s);
  const size_t zipped_body = zipped_raw.find("\r\n\r\n"), plain_body = plain_raw.find("\r\n\r\n");
  ASSERT_NE(zipped_body, std::string::npos);
  ASSERT_NE(plain_body, std::string::npos);
  const std::string zipped_head = zipped_raw.substr(0, zipped_body),
                    plain_head = plain_raw.substr(0, plain_body);
  EXPECT_NE(zipped_head.find("Content-Encoding: gzip"), std::string::npos) << zipped_head;
  EXPECT_EQ(plain_head.find("Content-Encoding"), std::string::npos) << plain_head;
  EXPECT_NE(plain_head.find("Vary: Accept-Encoding"), std::string::npos) << plain_head;

  // The compressed body decodes, piece by piece, to exactly what the plain client got.
  const std::string expected = "event: tick\ndata: one\n\n" + shared->text() + "event: tick\ndata: three\n\n";
  EXPECT_EQ(plain_raw.substr(plain_body + 4), expected);
  GunzipStream gz;
  std::string text;
  for (size_t at = zipped_body + 4; at < zipped_raw.size(); at += 100) {
    ASSERT_TRUE(gz.feed(zipped_raw.data() + at, std::min<size_t>(100, zipped_raw.size() - at), text));
  }
  EXPECT_EQ(text, expected);
  // The shared frame went out as its one deflated copy, far smaller than its text.
  EXPECT_NE(zipped_raw.find(shared->deflated()), std::string::npos);
  EXPECT_LT(zipped_raw.size() * 10, plain_raw.size());
}

TEST_F(HttpServerTest, SlowSseClientIsDroppedWithoutBlockingOthers) {
  ServerOptions opts;
  opts.sse_max_queued_events = 8;
  auto opened = start_sse_server(opts);

  RawClient slow(server_->port());  // never reads
  ASSERT_TRUE(slow.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  RawClient fast(server_->port());
  ASSERT_TRUE(fast.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto s = opened->wait(2);
  ASSERT_EQ(s.size(), 2u);
  const std::string payload(64 * 1024, 'p');
  // 64 KiB events fill the slow client's socket buffers, then its queue; send() must never block.
  int accepted = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000 && !(s[0]->closed() && s[1]->closed()); ++i) {
    for (auto& st : s) {
      if (st->send("big", payload)) ++accepted;
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // Both are dropped eventually since neither test client reads; what matters is neither send blocked and
  // the queue bound held. Now a reading client still gets events.
  EXPECT_TRUE(s[0]->closed());
  EXPECT_TRUE(s[1]->closed());
  RawClient reader(server_->port());
  ASSERT_TRUE(reader.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto all = opened->wait(3);
  ASSERT_EQ(all.size(), 3u);
  const auto third = all.back();
  EXPECT_TRUE(third->send("hello", "world"));
  const std::string got = reader.read_until("data: world\n\n", 5s);
  EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos) << got;
  EXPECT_NE(got.find("event: hello\ndata: world\n\n"), std::string::npos) << got;
}

// Event streams past max_event_streams are answered 503; a slot frees when a stream ends.
TEST_F(HttpServerTest, EventStreamsPastTheCapGet503) {
  ServerOptions opts;
  opts.max_event_streams = 1;
  auto opened = start_sse_server(opts);
  RawClient first(server_->port());
  ASSERT_TRUE(first.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto s = opened->wait(1);
  ASSERT_EQ(s.size(), 1u);
  RawClient second(server_->port());
  ASSERT_TRUE(second.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const std::string refused = second.read_until_close(3s);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  s[0]->close();
  for (int i = 0; i < 50 && !s[0]->closed(); ++i) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(100ms);
  RawClient third(server_->port());
  ASSERT_TRUE(third.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(opened->wait(2).size(), 2u);
}

TEST_F(HttpServerTest, SharedFramesOverflowDiscardsTheBacklogAndKeepsTheStreamOpen) {
  ServerOptions opts;
  opts.sse_max_queued_bytes = 256 * 1024;
  auto opened = start_sse_server(opts);
  RawClient client(server_->port());  // does not read until told
  ASSERT_TRUE(client.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto first = opened->wait(1);
  ASSERT_EQ(first.size(), 1u);
  const auto stream = first.front();
  // One shared 64 KiB frame, queued again and again: the socket buffers fill, then the byte bound trips.
  const auto big = sse_frame("big", std::string(64 * 1024, 'p'));
  SseStream::SendResult r = SseStream::SendResult::kQueued;
  int sent = 0;
  for (; sent < 2000 && r == SseStream::SendResult::kQueued; ++sent) r = stream->send_frame(big);
  ASSERT_EQ(r, SseStream::SendResult::kOverflow) << "after " << sent << " frames";
  EXPECT_FALSE(stream->closed());
  // What is left is at most the frames already handed to the socket.
  EXPECT_LE(stream->queued_bytes(), 64u * big->text().size());
  // The client reads again: the stream drains to zero and later frames arrive, after whole events only.
  std::string got;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (stream->queued_bytes() > 0 && std::chrono::steady_clock::now() < until) {
    got += client.read_until_close(50ms);
  }
  ASSERT_EQ(stream->queued_bytes(), 0u);
  EXPECT_EQ(stream->send_frame(sse_frame("after", "ok")), SseStream::SendResult::kQueued);
  got += client.read_until("data: ok\n\n", 5s);
  const auto body = got.substr(got.find("\r\n\r\n") + 4);
  const auto tail = body.rfind("event: after\ndata: ok\n\n");
  ASSERT_NE(tail, std::string::npos) << "received " << got.size()
                                     << " bytes, stream closed: " << stream->closed() << ", last bytes: "
                                     << got.substr(got.size() - std::min<size_t>(got.size(), 120));
  ASSERT_EQ(tail % big->text().size(), 0u) << "a partial event before the resumed stream";
  for (size_t at = 0; at < tail; at += big->text().size()) {
    ASSERT_EQ(body.compare(at, big->text().size(), big->text()), 0) << "event at " << at;
  }
}

TEST_F(HttpServerTest, GracefulStopLetsInFlightRequestFinish) {
  auto entered = std::make_shared<std::promise<void>>();
  server_ = nullptr;
  ServerOptions opts;
  opts.port = 0;
  opts.metrics = &registry_;
  server_ = std::make_unique<Server>(opts);
  ASSERT_TRUE(server_
                  ->get("/slow",
                        [entered](const Request&) {
                          entered->set_value();
                          std::this_thread::sleep_for(400ms);
                          return Response::text(200, "finished");
                        })
                  .ok());
  auto sse_closed = std::make_shared<std::promise<void>>();
  ASSERT_TRUE(server_
                  ->get("/events",
                        [sse_closed](const Request&) {
                          return Response::event_stream([sse_closed](std::shared_ptr<SseStream> s) {
                            s->on_close([sse_closed] { sse_closed->set_value(); });
                          });
                        })
                  .ok());
  ASSERT_TRUE(server_->start().ok());
  const uint16_t port = server_->port();

  RawClient sse(port);
  ASSERT_TRUE(sse.send_all("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_NE(sse.read_until("\r\n\r\n", 3s).find("200 OK"), std::string::npos);
  RawClient idle(port);  // a connected keep-alive client with no request

  auto slow = std::async(std::launch::async, [&] { return http::get(url("/slow")); });
  ASSERT_EQ(entered->get_future().wait_for(5s), std::future_status::ready);
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << "stop waits for work, not for the deadline";
  auto r = slow.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "finished");
  ASSERT_NE(r->header("connection"), nullptr);
  EXPECT_EQ(*r->header("connection"), "close");
  EXPECT_EQ(sse_closed->get_future().wait_for(1s), std::future_status::ready);
  bool closed = false;
  idle.read_until_close(1s, &closed);
  EXPECT_TRUE(closed);
  RawClient after(port);
  EXPECT_FALSE(after.connected()) << "no longer accepting";
}

TEST(HttpServerLifecycleTest, RunUntilShutdownReturnsOnRequest) {
  shutdown::reset_for_tests();
  metrics::Registry reg;
  ServerOptions opts;
  opts.metrics = &reg;
  Server server(opts);
  Status result = ok_status();
  std::thread t([&] { result = server.run_until_shutdown(); });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.port() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_NE(server.port(), 0);
  auto h = http::get(fmt::format("http://127.0.0.1:{}/healthz", server.port()));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, 200);
  shutdown::request();
  t.join();
  EXPECT_TRUE(result.ok());
  shutdown::reset_for_tests();
  EXPECT_FALSE(server.start().ok()) << "a stopped server cannot restart";
}

TEST(HttpServerLifecycleTest, BadBindAddressIsAnError) {
  metrics::Registry reg;
  ServerOptions opts;
  opts.bind_address = "not-an-ip";
  opts.metrics = &reg;
  Server server(opts);
  auto st = server.start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not-an-ip"), std::string::npos);
}

}  // namespace
}  // namespace fp::httpd
