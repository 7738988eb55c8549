// The overview: `fleetpipe status` through the stack library (the same health checks), plus a direct
// HTTP probe of each other UI, so a web app started by hand shows up too.
#include "common/http/client.h"
#include "console/views.h"
#include "stack/supervisor.h"

namespace fp::console {

namespace {

nlohmann::json probe(const LinkedService& s, std::chrono::milliseconds timeout) {
  std::string base = s.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  nlohmann::json out = {{"name", s.name}, {"title", s.title}, {"url", s.url}};
  auto r = http::get(base + s.health_path, timeout);
  if (!r) {
    // Nothing listening is the normal state of an optional part, not a failure.
    const bool refused = r.error().message.find("Couldn't connect") != std::string::npos;
    out["state"] = refused ? "not running" : "unreachable";
    out["detail"] = refused ? "" : r.error().message;
  } else if (r->status == 200) {
    out["state"] = "healthy";
    out["detail"] = "";
  } else {
    out["state"] = "unhealthy";
    out["detail"] = fmt::format("{}{} answered {}", base, s.health_path, r->status);
  }
  return out;
}

}  // namespace

nlohmann::json overview(Sources& src) {
  nlohmann::json out;
  out["taken_at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  auto ctx = stack::Context::load();
  if (!ctx) {
    out["stack"] = failed_panel("stack", ctx.error());
  } else {
    ctx->cfg = src.config();
    const auto parts = stack::status(*ctx);
    out["stack"] = {{"parts", stack::to_json(parts)}, {"all_healthy", stack::all_healthy(parts)}};
  }
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : src.services()) services.push_back(probe(s, src.timeouts().http));
  out["services"] = std::move(services);
  out["links"] = nlohmann::json::array();
  for (const auto& s : src.services()) out["links"].push_back({{"title", s.title}, {"url", s.url}});
  out["links"].push_back({{"title", "dbt docs"}, {"url", "/dbt/"}});
  out["links"].push_back(
      {{"title", "Kafka Connect REST"}, {"url", src.config().connect_url + "/connectors"}});
  return out;
}

}  // namespace fp::console
