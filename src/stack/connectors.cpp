#include <thread>

#include "common/files.h"
#include "common/http/client.h"
#include "common/log.h"
#include "common/retry.h"
#include "common/shutdown.h"
#include "stack/provision.h"

namespace fp::stack {
namespace {

using nlohmann::json;

Result<json> connect_call(const std::string& method, const std::string& url, const std::string& body = "") {
  return retry<json>(method + " " + url, Backoff{std::chrono::milliseconds(200), std::chrono::seconds(3), 6},
                     [&]() -> Result<json> {
                       auto r = method == "GET" ? http::get(url, std::chrono::seconds(10))
                                                : http::send(method, url, body, "application/json",
                                                             std::chrono::seconds(30));
                       if (!r) return std::move(r).error();
                       // Connect answers 409 while the worker group rebalances: worth retrying.
                       if (http::retryable_status(r->status) || r->status == 409)
                         return transient_error("HTTP {}: {}", r->status, r->body.substr(0, 300));
                       if (r->status == 404) return Error{"not found", Error::Kind::kNotFound};
                       if (r->status >= 300)
                         return make_error("HTTP {}: {}", r->status, r->body.substr(0, 2000));
                       if (r->body.empty()) return json::object();
                       auto j = json::parse(r->body, nullptr, false);
                       if (j.is_discarded())
                         return make_error("invalid JSON answer: {}", r->body.substr(0, 300));
                       return j;
                     });
}

// Waits until the connector and every task report RUNNING; a FAILED one ends the wait with its trace.
Status wait_running(const std::string& base, const std::string& name, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no status yet";
  while (std::chrono::steady_clock::now() < deadline) {
    auto st = connect_call("GET", base + "/connectors/" + name + "/status");
    if (st.ok()) {
      const auto& s = *st;
      const std::string cstate = s.value("/connector/state"_json_pointer, "");
      if (cstate == "FAILED")
        return make_error("connector {} FAILED:\n{}", name,
                          s.value("/connector/trace"_json_pointer, "(no trace)"));
      bool all_running = cstate == "RUNNING" && s.contains("tasks") && !s["tasks"].empty();
      for (const auto& t : s.value("tasks", json::array())) {
        const std::string tstate = t.value("state", "");
        if (tstate == "FAILED")
          return make_error("connector {} task {} FAILED:\n{}", name, t.value("id", -1),
                            t.value("trace", "(no trace)"));
        all_running = all_running && tstate == "RUNNING";
      }
      if (all_running) return ok_status();
      last = s.dump();
    } else {
      last = st.error().message;
    }
    if (shutdown::wait_for(std::chrono::milliseconds(500))) return make_error("interrupted");
  }
  return make_error("connector {} not RUNNING within {} s; last status: {}", name, timeout.count(), last);
}

}  // namespace

Result<std::string> fill_template_variables(const std::string& text,
                                            const std::map<std::string, std::string>& values,
                                            TemplateValueEscape escape) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "${") == 0) {
      const auto end = text.find('}', i + 2);
      if (end != std::string::npos) {
        const std::string name = text.substr(i + 2, end - i - 2);
        const bool ours = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                 c == '_';
        });
        if (ours) {
          auto it = values.find(name);
          if (it == values.end()) return make_error("unknown placeholder ${{{}}}", name);
          if (escape == TemplateValueEscape::kVerbatim) {
            out += it->second;
          } else {
            // Values go into JSON strings: escape them as JSON would (without the surrounding quotes).
            const std::string escaped = json(it->second).dump();
            out += escaped.substr(1, escaped.size() - 2);
          }
          i = end + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

std::map<std::string, std::string> connector_placeholders(const Context& ctx) {
  const auto& c = ctx.cfg;
  return {{"POSTGRES_HOST", c.webapp.host},
          {"POSTGRES_PORT", std::to_string(c.webapp.port)},
          {"POSTGRES_DB", c.webapp.dbname},
          {"CDC_POSTGRES_USER", c.cdc.user},
          {"CDC_SECRETS_FILE", (ctx.state() / "connect" / "cdc-secrets.properties").string()}};
}

Result<std::vector<json>> declared_connectors(const Context& ctx) {
  const auto dir = ctx.repo / "config" / "connectors";
  const auto values = connector_placeholders(ctx);
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json") files.push_back(it->path());
  if (ec) return make_error("connector definitions in {}: {}", dir.string(), ec.message());
  std::sort(files.begin(), files.end());
  std::vector<json> out;
  for (const auto& file : files) {
    const auto text = FP_TRY(read_file(file), "connector definition");
    const auto filled = FP_TRY(fill_template_variables(text, values), file.string());
    auto doc = json::parse(filled, nullptr, false);
    if (doc.is_discarded() || !doc.contains("name") || !doc["name"].is_string() || !doc.contains("config") ||
        !doc["config"].is_object())
      return make_error("{}: expected a JSON object with \"name\" and \"config\"", file.string());
    doc["config"]["name"] = doc["name"];
    out.push_back(std::move(doc));
  }
  return out;
}

Status apply_connectors(Context& ctx) {
  // The CDC password reaches the worker through its FileConfigProvider, so it is stored neither in the
  // connect_configs topic nor shown by GET /connectors/<name>/config.
  FP_CHECK(write_file_atomic(ctx.state() / "connect" / "cdc-secrets.properties",
                             "password=" + ctx.cfg.cdc.password + "\n", /*private_mode=*/true),
           "connector secrets");
  for (const auto& doc : FP_TRY(declared_connectors(ctx), "connectors")) {
    const std::string name = doc["name"];
    // PUT /connectors/<name>/config creates or updates: applying the same file twice changes nothing.
    FP_TRY(connect_call("PUT", ctx.cfg.connect_url + "/connectors/" + name + "/config", doc["config"].dump()),
           "apply connector " + name);
    FP_CHECK(wait_running(ctx.cfg.connect_url, name, std::chrono::seconds(90)), "apply connector " + name);
    log::info("connectors", "connector {} and its tasks are RUNNING", name);
  }
  return ok_status();
}

Status connectors_running(const Context& ctx) {
  const auto declared = FP_TRY(declared_connectors(ctx), "connectors");
  // One call, no retries: `status` asks, it does not wait.
  auto r = http::get(ctx.cfg.connect_url + "/connectors?expand=status", std::chrono::seconds(3));
  if (!r) return transient_error("connector states: {}", r.error().message);
  if (r->status != 200) return transient_error("connector states: GET /connectors answered {}", r->status);
  const auto all = json::parse(r->body, nullptr, false);
  if (!all.is_object()) return make_error("connector states: not a JSON object");
  // The first line of a trace is the exception and its message; the rest is the stack.
  auto first_line = [](const json& t) {
    const std::string trace = t.value("trace", "");
    return trace.empty() ? std::string("no trace") : trace.substr(0, trace.find('\n'));
  };
  for (const auto& doc : declared) {
    const std::string name = doc["name"];
    const auto it = all.find(name);
    if (it == all.end() || !it->contains("status"))
      return make_error("connector {} is not registered (`fleetpipe up` registers it)", name);
    const json& st = (*it)["status"];
    const std::string state = st.value("/connector/state"_json_pointer, "");
    if (state != "RUNNING")
      return make_error("connector {} is {}: {}", name, state.empty() ? "in no state" : state,
                        first_line(st.value("connector", json::object())));
    const auto tasks = st.value("tasks", json::array());
    if (tasks.empty()) return make_error("connector {} has no task", name);
    for (const auto& t : tasks) {
      const std::string ts = t.value("state", "");
      if (ts != "RUNNING")
        return make_error("connector {} task {} is {}: {} (the console's CDC page restarts it)", name,
                          t.value("id", -1), ts.empty() ? "in no state" : ts, first_line(t));
    }
  }
  return ok_status();
}

}  // namespace fp::stack
