#include "webapp/app.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <mutex>

#include "common/http/csrf.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/http/static_files.h"
#include "common/json_bounded.h"
#include "common/log.h"
#include "common/metrics.h"
#include "webapp/html.h"
#include "webapp/store.h"

namespace fp::webapp {

namespace {

constexpr const char* kComponent = "webapp";

// The latest rows, rendered once for both "/" and the API.
struct Snapshot {
  std::string table_html;
  std::string json;
  std::chrono::steady_clock::time_point taken;
  uint64_t generation = 0;
};

bool has_content_type(const httpd::Request& req, std::string_view type) {
  const std::string* ct = req.header("content-type");
  if (!ct) return false;
  std::string_view v(*ct);
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() != type.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) != type[i]) return false;
  }
  return true;
}

httpd::Response problem(int status, std::string_view title, std::string_view detail,
                        const std::vector<FieldError>& errors = {}) {
  nlohmann::json body = {{"type", "about:blank"}, {"title", title}, {"status", status}, {"detail", detail}};
  if (!errors.empty()) {
    auto& list = body["errors"] = nlohmann::json::array();
    for (const auto& e : errors) list.push_back({{"field", e.field}, {"reason", e.reason}});
  }
  httpd::Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::optional<int> parse_positive_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v < 1) return std::nullopt;
  return v;
}

}  // namespace

std::filesystem::path default_static_dir() {
  return httpd::find_asset_dir("web/webapp");
}

struct WebApp::Impl {
  WebappOptions options;
  metrics::Registry& registry = metrics::default_registry();
  Store store;
  Csrf csrf;
  httpd::Server server;

  std::mutex cache_mu;
  std::shared_ptr<const Snapshot> cache;
  // Bumped by every insert; a snapshot taken under an older generation is never served.
  std::atomic<uint64_t> generation{0};

  Impl(const Config& cfg, WebappOptions opts)
      : options(std::move(opts)),
        store(cfg.webapp_as(DbService::kApp),
              StoreOptions{.pool_size = options.db_connections, .schema = options.schema}, registry),
        csrf(options.csrf_secret),
        server(server_options()) {}

  httpd::ServerOptions server_options() {
    httpd::ServerOptions o;
    o.bind_address = options.bind_address;
    o.port = options.port;
    o.io_threads = options.io_threads;
    o.worker_threads = options.worker_threads;
    o.max_body_bytes = options.max_body_bytes;
    o.content_security_policy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'";
    o.health = [this] { return store.health(); };
    o.metrics = &registry;
    return o;
  }

  Status install_routes() {
    FP_CHECK(server.get("/", [this](const httpd::Request& r) { return index(r); }), "route /");
    FP_CHECK(server.post("/submit", [this](const httpd::Request& r) { return submit(r); }), "route /submit");
    FP_CHECK(server.get("/api/trips/latest", [this](const httpd::Request& r) { return api_latest(r); }),
             "route latest");
    FP_CHECK(server.post("/api/trips", [this](const httpd::Request& r) { return api_create(r); }),
             "route create");
    FP_CHECK(server.get("/api/vehicles/{id}/trips",
                        [this](const httpd::Request& r) { return api_vehicle_trips(r); }),
             "route vehicle trips");
    auto dir = options.static_dir.empty() ? default_static_dir() : options.static_dir;
    FP_CHECK(server.serve_static("/static", dir), "static files");
    return ok_status();
  }

  // The cached snapshot when fresh, else a new one from the database.
  Result<std::shared_ptr<const Snapshot>> latest() {
    const auto now = std::chrono::steady_clock::now();
    const uint64_t gen = generation.load(std::memory_order_acquire);
    {
      std::lock_guard lock(cache_mu);
      if (cache && cache->generation == gen && now - cache->taken < options.cache_ttl) return cache;
    }
    auto rows = FP_TRY(store.latest_per_vehicle(), "latest trips");
    auto snap = std::make_shared<Snapshot>();
    snap->table_html = html::latest_table(rows);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : rows) list.push_back(to_json(r));
    snap->json = nlohmann::json{{"trips", std::move(list)}}.dump(-1, ' ', false,
                                                                 nlohmann::json::error_handler_t::replace);
    snap->taken = now;
    snap->generation = gen;
    std::lock_guard lock(cache_mu);
    // Keep whichever is newer; a snapshot from before an insert stays unused because its generation is old.
    if (!cache || cache->generation <= gen) cache = snap;
    return std::shared_ptr<const Snapshot>(snap);
  }

  void invalidate() { generation.fetch_add(1, std::memory_order_acq_rel); }

  // The token to embed: the client's own when its cookie is genuine and young, else a new one (and its
  // cookie).
  std::string token_for(const httpd::Request& req, httpd::Response& resp) {
    const std::string* cookie = req.header("cookie");
    std::string token = cookie ? cookie_value(*cookie, Csrf::kCookieName) : std::string{};
    if (csrf.should_renew(token)) {
      token = csrf.issue();
      resp.header("Set-Cookie", Csrf::cookie_header(token));
    }
    return token;
  }

  // The page embeds a per-client token: never cache it in shared caches.
  httpd::Response html_response(int status, std::string body) {
    return httpd::Response::html_page(status, std::move(body));
  }

  httpd::Response unavailable(const Error& e) {
    log::warn(kComponent, "database unavailable: {}", e.message);
    auto r = html_response(503, html::message_page("Trips are unavailable right now",
                                                   "The trip database cannot be reached. This page will work "
                                                   "again as soon as it is back; please retry in a moment."));
    r.header("Retry-After", "5");
    return r;
  }

  // The page with the form in `state`; the table comes from the cache when the database answers.
  httpd::Response form_page(int status, const httpd::Request& req, html::FormState state) {
    httpd::Response r;
    const std::string token = token_for(req, r);
    auto snap = latest();
    const std::string table =
        snap ? (*snap)->table_html
             : std::string(
                   "<p class=\"empty\">The latest trips cannot be shown: the database is unreachable.</p>");
    auto page = html_response(status, html::page(table, state, token));
    for (auto& h : r.headers) page.headers.push_back(h);
    return page;
  }

  httpd::Response index(const httpd::Request& req) {
    auto snap = latest();
    if (!snap) return unavailable(snap.error());
    httpd::Response r;
    const std::string token = token_for(req, r);
    auto page = html_response(200, html::page((*snap)->table_html, {}, token));
    for (auto& h : r.headers) page.headers.push_back(h);
    return page;
  }

  httpd::Response submit(const httpd::Request& req) {
    if (!has_content_type(req, "application/x-www-form-urlencoded")) {
      return html_response(415,
                           html::message_page("Unsupported form encoding",
                                              "The form must be sent as application/x-www-form-urlencoded."));
    }
    auto fields = httpd::parse_query(req.body);
    if (!fields) {
      return html_response(400, html::message_page("Malformed form", "The form data could not be decoded."));
    }
    html::FormState state;
    for (const auto& name : trip_field_names()) {
      if (auto it = fields->find(name); it != fields->end()) {
        // Preserve what was typed, but not an unbounded amount of it.
        state.values.emplace(name, it->second.substr(0, kMaxFieldChars * 2));
      }
    }
    const std::string* cookie = req.header("cookie");
    const std::string cookie_token = cookie ? cookie_value(*cookie, Csrf::kCookieName) : std::string{};
    auto form_token = fields->find(std::string(Csrf::kFieldName));
    const auto verdict =
        form_token == fields->end() ? Csrf::Verdict::kForged : csrf.verify(cookie_token, form_token->second);
    if (verdict == Csrf::Verdict::kExpired) {
      // Here it is again, with what was typed and a new token (form_page renews the expired cookie).
      state.banner =
          "This form expired before it was sent. Your values are kept: check them and send it again.";
      return form_page(403, req, std::move(state));
    }
    if (verdict != Csrf::Verdict::kGenuine) {
      state.banner =
          "The form did not come from this site (or your browser blocked its cookie). Please check the "
          "values "
          "and send it again.";
      return form_page(403, req, std::move(state));
    }
    auto v = validate_form(*fields);
    if (!v.trip) {
      state.errors = std::move(v.errors);
      return form_page(400, req, std::move(state));
    }
    auto outcome = store.insert(*v.trip);
    if (outcome.row) {
      invalidate();
      httpd::Response r;
      r.status = 303;
      r.header("Location", "/");
      r.header("Cache-Control", "no-store");
      return r;
    }
    if (outcome.conflict) {
      state.banner = fmt::format("Vehicle {} already has measurement {} of trip {}.", v.trip->vehicle_id,
                                 v.trip->measurement_sequence, v.trip->trip_id);
      state.errors.push_back({"measurement_sequence", "already recorded for this vehicle and trip"});
      return form_page(409, req, std::move(state));
    }
    if (!outcome.errors.empty()) {
      state.errors = std::move(outcome.errors);
      return form_page(400, req, std::move(state));
    }
    return unavailable(*outcome.failure);
  }

  httpd::Response api_latest(const httpd::Request&) {
    auto snap = latest();
    if (!snap) {
      log::warn(kComponent, "database unavailable: {}", snap.error().message);
      return problem(503, "Database unavailable", "The trip database cannot be reached; retry shortly.");
    }
    httpd::Response r;
    r.content_type = "application/json";
    r.body = (*snap)->json;
    r.header("Cache-Control", "no-store");
    return r;
  }

  httpd::Response api_create(const httpd::Request& req) {
    // Requiring JSON is also the CSRF defence here: a cross-site form cannot send application/json.
    if (!has_content_type(req, "application/json")) {
      return problem(415, "Unsupported media type", "Send the trip as application/json.");
    }
    // A trip is one flat object: nesting past a few levels is not one (and is refused before parsing).
    auto body =
        parse_json_bounded(req.body, JsonLimits{.max_bytes = req.body.size(), .max_depth = 8}, "body");
    if (!body)
      return problem(400, "Malformed JSON",
                     fmt::format("The request was refused: {}.", body.error().message));
    auto v = validate_json(*body);
    if (!v.trip) return problem(400, "Invalid trip", "One or more fields are invalid.", v.errors);
    auto outcome = store.insert(*v.trip);
    if (outcome.row) {
      invalidate();
      auto r = httpd::Response::json(201, to_json(*outcome.row));
      r.header("Location", fmt::format("/api/vehicles/{}/trips", outcome.row->trip.vehicle_id));
      return r;
    }
    if (outcome.conflict) {
      return problem(409, "Duplicate measurement",
                     fmt::format("Vehicle {} already has measurement {} of trip {}.", v.trip->vehicle_id,
                                 v.trip->measurement_sequence, v.trip->trip_id),
                     {{"measurement_sequence", "already recorded for this vehicle and trip"}});
    }
    if (!outcome.errors.empty())
      return problem(400, "Invalid trip", "One or more fields are invalid.", outcome.errors);
    log::warn(kComponent, "insert failed: {}", outcome.failure->message);
    return problem(503, "Database unavailable", "The trip could not be stored; retry shortly.");
  }

  httpd::Response api_vehicle_trips(const httpd::Request& req) {
    std::vector<FieldError> errors;
    auto id = parse_positive_int(req.params.at("id"));
    if (!id) errors.push_back({"id", "must be a positive whole number"});
    int limit = 50;
    if (const std::string* l = req.query_value("limit")) {
      auto n = parse_positive_int(*l);
      if (!n || *n > 500) {
        errors.push_back({"limit", "must be between 1 and 500"});
      } else {
        limit = *n;
      }
    }
    std::optional<Cursor> before;
    if (const std::string* b = req.query_value("before")) {
      before = parse_cursor(*b);
      if (!before) errors.push_back({"before", "must be a cursor from a previous page's next"});
    }
    if (!errors.empty()) return problem(400, "Invalid query", "One or more parameters are invalid.", errors);
    auto page = store.vehicle_trips(*id, limit, before);
    if (!page) {
      if (page.error().kind == Error::Kind::kNotFound) {
        return problem(404, "Vehicle not found", fmt::format("Vehicle {} does not exist.", *id));
      }
      log::warn(kComponent, "vehicle trips: {}", page.error().message);
      return problem(503, "Database unavailable", "The trip database cannot be reached; retry shortly.");
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : page->rows) list.push_back(to_json(r));
    nlohmann::json body = {{"vehicle_id", *id}, {"trips", std::move(list)}, {"next", nullptr}};
    if (page->next) {
      body["next"] = fmt::format("/api/vehicles/{}/trips?limit={}&before={}", *id, limit, *page->next);
      body["next_cursor"] = *page->next;
    }
    return httpd::Response::json(200, body);
  }
};

WebApp::WebApp(const Config& config, WebappOptions options)
    : Service("webapp"), impl_(std::make_unique<Impl>(config, std::move(options))) {}

WebApp::~WebApp() {
  stop();
}

Status WebApp::start() {
  FP_CHECK(impl_->install_routes(), "webapp routes");
  FP_CHECK(impl_->server.start(), "webapp server");
  log::info(kComponent, "listening on http://{}:{}", impl_->options.bind_address, impl_->server.port());
  return ok_status();
}

uint16_t WebApp::port() const {
  return impl_->server.port();
}

void WebApp::stop() {
  impl_->server.stop();
}

}  // namespace fp::webapp
