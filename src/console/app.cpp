#include "console/app.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/http/csrf.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/http/static_files.h"
#include "common/log.h"
#include "common/metrics.h"
#include "console/html.h"
#include "console/metrics_publish.h"
#include "console/pages/dbt.h"
#include "console/queries.h"
#include "console/replies.h"
#include "console/token.h"
#include "console/views.h"

namespace fp::console {

namespace {

constexpr const char* kComponent = "console";
// Cookies are shared by every port of a host, so the console's CSRF cookie has its own name.
constexpr std::string_view kCsrfCookie = "fp_console_csrf";

bool is_form(const httpd::Request& req) {
  const std::string* ct = req.header("content-type");
  if (!ct) return false;
  std::string v = ct->substr(0, ct->find(';'));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "application/x-www-form-urlencoded";
}

}  // namespace

std::filesystem::path default_static_dir() {
  return httpd::find_asset_dir("web/console");
}

struct Console::Impl {
  ConsoleOptions options;
  std::string token;
  Sources src;
  Csrf csrf;
  httpd::Server server;
  metrics::Gauge& sse_clients;

  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  std::shared_ptr<const nlohmann::json> latest;  // the overview last computed
  std::vector<std::shared_ptr<httpd::SseStream>> streams;
  std::thread poller;

  Impl(const Config& cfg, ConsoleOptions opts)
      : options(std::move(opts)),
        token(cfg.console_token),
        src(cfg, options.services, options.export_prefix, options.timeouts),
        csrf(options.csrf_secret),
        server(server_options()),
        sse_clients(metrics::default_registry().gauge("console_sse_clients",
                                                      "Browsers following the live overview")) {
    if (options.dbt_target.empty()) options.dbt_target = cfg.state_dir / "dbt" / "target";
  }

  httpd::ServerOptions server_options() {
    httpd::ServerOptions o;
    o.bind_address = options.bind_address;
    o.port = options.port;
    o.worker_threads = options.worker_threads;
    o.max_body_bytes = 8 * 1024;  // the action forms are a few hundred bytes
    o.content_security_policy =
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    return o;
  }

  // ---- overview, computed in the background and pushed to SSE clients ----

  std::shared_ptr<const nlohmann::json> current_overview() {
    {
      std::lock_guard lock(mu);
      if (latest) return latest;
    }
    return refresh_overview();
  }

  std::shared_ptr<const nlohmann::json> refresh_overview() {
    auto o = std::make_shared<const nlohmann::json>(overview(src));
    publish_overview_metrics(*o, metrics::default_registry());
    std::lock_guard lock(mu);
    latest = o;
    return o;
  }

  void broadcast(const nlohmann::json& o) {
    const std::string fragment = html::overview_panels(o);
    std::lock_guard lock(mu);
    std::erase_if(streams,
                  [&](const std::shared_ptr<httpd::SseStream>& s) { return !s->send("overview", fragment); });
    sse_clients.set(static_cast<double>(streams.size()));
  }

  void poll_loop() {
    for (;;) {
      auto o = refresh_overview();
      broadcast(*o);
      std::unique_lock lock(mu);
      if (wake.wait_for(lock, options.refresh, [&] { return stopping; })) return;
    }
  }

  // ---- pages ----

  std::string token_for(const httpd::Request& req, httpd::Response& resp) {
    const std::string* cookie = req.header("cookie");
    std::string t = cookie ? cookie_value(*cookie, kCsrfCookie) : std::string{};
    if (csrf.should_renew(t)) {
      t = csrf.issue();
      resp.header("Set-Cookie", Csrf::cookie_header(kCsrfCookie, t));
    }
    return t;
  }

  httpd::Response with_token(const httpd::Request& req,
                             const std::function<std::string(std::string_view)>& f) {
    httpd::Response cookie;
    const std::string t = token_for(req, cookie);
    auto r = html_response(200, f(t));
    for (auto& h : cookie.headers) r.headers.push_back(h);
    return r;
  }

  // ---- actions ----

  // nullopt when the form's CSRF token and operator token are both good; else the refusal page.
  std::optional<httpd::Response> authorize_form(const httpd::Request& req, std::string_view back) {
    if (!is_form(req))
      return html_response(415, html::message("Unsupported form encoding",
                                              "Send the form as application/x-www-form-urlencoded.", back));
    auto fields = httpd::parse_query(req.body);
    if (!fields)
      return html_response(400, html::message("Malformed form", "The form data could not be decoded.", back));
    const std::string* cookie = req.header("cookie");
    const std::string cookie_token = cookie ? cookie_value(*cookie, kCsrfCookie) : std::string{};
    auto form_token = fields->find(std::string(Csrf::kFieldName));
    const auto verdict =
        form_token == fields->end() ? Csrf::Verdict::kForged : csrf.verify(cookie_token, form_token->second);
    if (verdict == Csrf::Verdict::kExpired)
      return html_response(403, html::message("Form expired",
                                              "The form was loaded too long ago, so nothing was done. Open "
                                              "the page again (below) and send it once more.",
                                              back));
    if (verdict != Csrf::Verdict::kGenuine)
      return html_response(403, html::message("Form refused",
                                              "The form did not come from this console (or the browser "
                                              "blocked its cookie). Nothing was done: reload the page and "
                                              "try again.",
                                              back));
    auto op = fields->find(std::string(kTokenField));
    const auto check = check_operator_token(token, op == fields->end() ? "" : op->second);
    if (check != TokenCheck::kOk) {
      log::warn(kComponent, "action {} refused from {}: {}", req.path, req.remote_address,
                check == TokenCheck::kMissing ? "no token" : "bad or unconfigured token");
      return html_response(token_status(check), html::message("Not allowed", token_message(check), back));
    }
    return std::nullopt;
  }

  // Bearer-token API calls need no CSRF token: a cross-site page cannot set an Authorization header.
  std::optional<httpd::Response> authorize_api(const httpd::Request& req) {
    const std::string* auth = req.header("authorization");
    const auto check = check_operator_token(token, auth ? bearer_token(*auth) : "");
    if (check == TokenCheck::kOk) return std::nullopt;
    log::warn(kComponent, "API action {} refused from {}", req.path, req.remote_address);
    auto r = problem(token_status(check), "Not allowed", token_message(check));
    if (check == TokenCheck::kMissing) r.header("WWW-Authenticate", "Bearer realm=\"fleetpipe console\"");
    return r;
  }

  httpd::Response action_failed(bool as_api, const Error& err, std::string_view back) {
    log::warn(kComponent, "action failed: {}", err.message);
    const int status = err.kind == Error::Kind::kNotFound       ? 404
                       : err.kind == Error::Kind::kInvalidInput ? 400
                                                                : 502;
    if (as_api) return problem(status, "Action failed", err.message);
    return html_response(status, html::message("Action failed", err.message, back));
  }

  httpd::Response restart(const httpd::Request& req, bool as_api) {
    const std::string name = req.params.at("name");
    if (auto refused = as_api ? authorize_api(req) : authorize_form(req, "/cdc")) return *refused;
    auto r = restart_connector(src, name);
    if (!r) return action_failed(as_api, r.error(), "/cdc");
    log::info(kComponent, "connector {} restart requested by {}", name, req.remote_address);
    if (as_api) return httpd::Response::json(202, *r);
    httpd::Response redirect;
    redirect.status = 303;
    redirect.header("Location", "/cdc?restarted=" + http::url_encode(name));
    return redirect;
  }

  httpd::Response run_now(const httpd::Request& req, bool as_api, bool full_tests = false) {
    if (auto refused = as_api ? authorize_api(req) : authorize_form(req, "/batch")) return *refused;
    auto r = request_run(src, "console", full_tests);
    if (!r) return action_failed(as_api, r.error(), "/batch");
    log::info(kComponent, "run {} requested by {}", (*r)["request_id"].get<int64_t>(), req.remote_address);
    if (as_api) return httpd::Response::json(202, *r);
    httpd::Response redirect;
    redirect.status = 303;
    redirect.header("Location", fmt::format("/batch?requested={}", (*r)["request_id"].get<int64_t>()));
    return redirect;
  }

  // ---- routes, grouped by page (registered in this order) ----

  // A GET route whose handler is given this Impl (the handlers are captureless lambdas).
  template <typename F>
  Status get(const char* path, F fn) {
    return server.get(path, [this, fn](const httpd::Request& r) { return fn(this, r); });
  }

  Status install_routes() {
    for (auto group : {&Impl::overview_routes, &Impl::topic_routes, &Impl::group_routes, &Impl::cdc_routes,
                       &Impl::batch_routes, &Impl::dbt_routes}) {
      if (auto st = (this->*group)(); !st) return st;
    }
    auto dir = options.static_dir.empty() ? default_static_dir() : options.static_dir;
    FP_CHECK(server.serve_static("/static", dir), "static files");
    return ok_status();
  }

  Status overview_routes() {
    FP_CHECK(get("/",
                 [](Impl* s, const httpd::Request&) {
                   return html_response(200, html::overview(*s->current_overview()));
                 }),
             "route /");
    FP_CHECK(get("/api/overview", [](Impl* s, const httpd::Request&) { return api(*s->current_overview()); }),
             "route");
    FP_CHECK(get("/api/events",
                 [](Impl* s, const httpd::Request&) {
                   return httpd::Response::event_stream([s](std::shared_ptr<httpd::SseStream> stream) {
                     auto o = s->current_overview();
                     stream->send("overview", html::overview_panels(*o));
                     std::lock_guard lock(s->mu);
                     s->streams.push_back(std::move(stream));
                     s->sse_clients.set(static_cast<double>(s->streams.size()));
                   });
                 }),
             "route");
    return ok_status();
  }

  Status topic_routes() {
    FP_CHECK(get("/topics",
                 [](Impl* s, const httpd::Request& r) {
                   const bool internal = r.query_value("internal") != nullptr;
                   return html_response(200, html::topics(topics(s->src, internal), internal));
                 }),
             "route");
    FP_CHECK(get("/api/topics",
                 [](Impl* s, const httpd::Request& r) {
                   return api(topics(s->src, r.query_value("internal") != nullptr));
                 }),
             "route");
    auto topic_route = [](bool as_api) {
      return [as_api](Impl* s, const httpd::Request& r) {
        auto q = topic_query(r);
        if (auto* bad = std::get_if<httpd::Response>(&q)) return std::move(*bad);
        const auto& tq = std::get<TopicQuery>(q);
        auto d = topic_detail(s->src, r.params.at("name"), tq.partition, tq.n);
        const int status = d.value("not_found", false) ? 404 : 200;
        if (as_api) {
          auto resp = api(d);
          resp.status = status;
          return resp;
        }
        return html_response(status, html::topic(d, tq.n));
      };
    };
    FP_CHECK(get("/topics/{name}", topic_route(false)), "route");
    FP_CHECK(get("/api/topics/{name}", topic_route(true)), "route");
    return ok_status();
  }

  Status group_routes() {
    FP_CHECK(
        get("/groups",
            [](Impl* s, const httpd::Request&) { return html_response(200, html::groups(groups(s->src))); }),
        "route");
    FP_CHECK(get("/api/groups", [](Impl* s, const httpd::Request&) { return api(groups(s->src)); }), "route");
    return ok_status();
  }

  Status cdc_routes() {
    FP_CHECK(get("/cdc",
                 [](Impl* s, const httpd::Request& r) {
                   const std::string* restarted = r.query_value("restarted");
                   const std::string notice =
                       restarted ? fmt::format("Restart of connector {} and its tasks requested.", *restarted)
                                 : "";
                   auto data = cdc(s->src);
                   return s->with_token(r, [&](std::string_view t) { return html::cdc(data, t, notice); });
                 }),
             "route");
    FP_CHECK(get("/api/cdc", [](Impl* s, const httpd::Request&) { return api(cdc(s->src)); }), "route");
    FP_CHECK(server.post("/cdc/connectors/{name}/restart",
                         [this](const httpd::Request& r) { return restart(r, false); }),
             "route");
    FP_CHECK(server.post("/api/cdc/connectors/{name}/restart",
                         [this](const httpd::Request& r) { return restart(r, true); }),
             "route");
    return ok_status();
  }

  Status batch_routes() {
    FP_CHECK(get("/batch",
                 [](Impl* s, const httpd::Request& r) {
                   auto q = runs_query(r);
                   if (auto* bad = std::get_if<httpd::Response>(&q)) return std::move(*bad);
                   const auto& rq = std::get<RunsQuery>(q);
                   std::string notice;
                   if (const std::string* id = r.query_value("requested"); id && parse_int(*id, 1, INT64_MAX))
                     notice = fmt::format("Run request {} sent to the scheduler.", *id);
                   auto data = batch(s->src);
                   auto history = runs(s->src, rq.before, rq.limit);
                   return s->with_token(
                       r, [&](std::string_view t) { return html::batch(data, history, t, notice); });
                 }),
             "route");
    FP_CHECK(get("/api/batch", [](Impl* s, const httpd::Request&) { return api(batch(s->src)); }), "route");
    FP_CHECK(get("/api/runs",
                 [](Impl* s, const httpd::Request& r) {
                   auto q = runs_query(r);
                   if (auto* bad = std::get_if<httpd::Response>(&q)) return std::move(*bad);
                   const auto& rq = std::get<RunsQuery>(q);
                   return api(runs(s->src, rq.before, rq.limit));
                 }),
             "route");
    FP_CHECK(server.post("/batch/run-now", [this](const httpd::Request& r) { return run_now(r, false); }),
             "route");
    FP_CHECK(server.post("/api/runs", [this](const httpd::Request& r) { return run_now(r, true); }), "route");
    FP_CHECK(server.post("/batch/run-full-tests",
                         [this](const httpd::Request& r) { return run_now(r, false, true); }),
             "route");
    FP_CHECK(server.post("/api/runs/full-tests",
                         [this](const httpd::Request& r) { return run_now(r, true, true); }),
             "route");
    return ok_status();
  }

  Status dbt_routes() {
    FP_CHECK(get("/dbt",
                 [](Impl*, const httpd::Request&) {
                   httpd::Response r;
                   r.status = 301;
                   r.header("Location", "/dbt/");
                   return r;
                 }),
             "route");
    FP_CHECK(get("/dbt/{path*}",
                 [](Impl* s, const httpd::Request& r) { return dbt_docs(s->options.dbt_target, r); }),
             "route");
    return ok_status();
  }
};

Console::Console(const Config& config, ConsoleOptions options)
    : Service("console"), impl_(std::make_unique<Impl>(config, std::move(options))) {}

Console::~Console() {
  stop();
}

Status Console::start() {
  FP_CHECK(impl_->install_routes(), "console routes");
  FP_CHECK(impl_->server.start(), "console server");
  impl_->poller = std::thread([this] { impl_->poll_loop(); });
  if (impl_->token.empty())
    log::warn(kComponent, "no operator token (FLEETPIPE_CONSOLE_TOKEN): the console is read-only");
  log::info(kComponent, "listening on http://{}:{}", impl_->options.bind_address, impl_->server.port());
  return ok_status();
}

uint16_t Console::port() const {
  return impl_->server.port();
}

void Console::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->poller.joinable()) impl_->poller.join();
  impl_->server.stop();
}

}  // namespace fp::console
