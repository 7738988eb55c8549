#include "scheduler/run_results.h"

namespace fp::sched {

nlohmann::json DbtCounts::to_json() const {
  return {{"pass", pass}, {"fail", fail}, {"error", error}, {"skip", skip}, {"warn", warn}};
}

nlohmann::json DbtResults::to_json() const {
  nlohmann::json j = all.to_json();
  j["models"] = models.to_json();
  j["tests"] = tests.to_json();
  j["rows"] = rows;
  j["elapsed_s"] = elapsed_s;
  auto f = nlohmann::json::array();
  for (const auto& x : failures)
    f.push_back({{"node", x.unique_id}, {"status", x.status}, {"message", x.message}});
  j["failures"] = f;
  return j;
}

namespace {

// dbt's node statuses (dbt.artifacts.schemas.results): RunStatus for models, TestStatus for tests.
Status count(DbtCounts& c, std::string_view status) {
  if (status == "success" || status == "pass")
    c.pass += 1;
  else if (status == "fail")
    c.fail += 1;
  else if (status == "error" || status == "runtime error")
    c.error += 1;
  else if (status == "skipped" || status == "no-op")
    c.skip += 1;
  else if (status == "warn")
    c.warn += 1;
  else
    return invalid_input("unknown node status '{}'", status);
  return ok_status();
}

std::string message_of(const nlohmann::json& result) {
  if (auto m = result.find("message"); m != result.end() && m->is_string()) return m->get<std::string>();
  return "";
}

}  // namespace

Result<DbtResults> parse_run_results(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_input("run_results.json: not valid JSON");
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array())
    return invalid_input("run_results.json: no \"results\" array");
  DbtResults out;
  if (auto e = doc.find("elapsed_time"); e != doc.end() && e->is_number()) out.elapsed_s = e->get<double>();
  for (const auto& r : doc["results"]) {
    if (!r.is_object() || !r.contains("status") || !r["status"].is_string() || !r.contains("unique_id") ||
        !r["unique_id"].is_string())
      return invalid_input("run_results.json: a result without status or unique_id");
    const std::string status = r["status"].get<std::string>();
    const std::string id = r["unique_id"].get<std::string>();
    FP_CHECK(count(out.all, status), fmt::format("run_results.json: {}", id));
    // Project hooks (operation.*, e.g. the load gate's on-run-start) count among all nodes only.
    if (id.rfind("operation.", 0) == 0) {
      if ((status == "error" || status == "runtime error") && out.failures.size() < 20)
        out.failures.push_back({id, status, message_of(r)});
      continue;
    }
    const bool is_test = id.rfind("test.", 0) == 0 || id.rfind("unit_test.", 0) == 0;
    FP_CHECK(count(is_test ? out.tests : out.models, status), fmt::format("run_results.json: {}", id));
    if (!is_test && status == "success") {
      // adapter_response.rows_affected: what the statement reported (-1 or absent when unknown).
      if (auto ar = r.find("adapter_response"); ar != r.end() && ar->is_object())
        if (auto ra = ar->find("rows_affected"); ra != ar->end() && ra->is_number_integer() && *ra > 0)
          out.rows += ra->get<int64_t>();
    }
    if ((status == "fail" || status == "error" || status == "runtime error") && out.failures.size() < 20)
      out.failures.push_back({id, status, message_of(r)});
  }
  return out;
}

}  // namespace fp::sched
