#include "stack/supervision_file.h"

#include "common/files.h"

namespace fp::stack {

nlohmann::json to_json(const Supervision& s) {
  nlohmann::json parts = nlohmann::json::object();
  for (const auto& [name, p] : s.parts)
    parts[name] = {{"phase", p.phase},
                   {"restarts", p.restarts},
                   {"last_exit", p.last_exit},
                   {"last_death_unix", p.last_death_unix},
                   {"restart_at_unix", p.restart_at_unix},
                   {"log_tail", p.log_tail}};
  return {{"updated_unix", s.updated_unix}, {"parts", std::move(parts)}};
}

Result<Supervision> read_supervision(const std::filesystem::path& path) {
  const std::string text = FP_TRY(read_file(path), "supervision");
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("parts") || !doc["parts"].is_object())
    return invalid_input("{}: not a supervision file", path.string());
  Supervision s;
  try {
    s.updated_unix = doc.value("updated_unix", 0.0);
    for (const auto& [name, p] : doc["parts"].items()) {
      if (!p.is_object()) return invalid_input("{}: part {} is not an object", path.string(), name);
      PartSupervision ps;
      ps.phase = p.value("phase", "running");
      ps.restarts = p.value("restarts", 0);
      ps.last_exit = p.value("last_exit", "");
      ps.last_death_unix = p.value("last_death_unix", 0.0);
      ps.restart_at_unix = p.value("restart_at_unix", 0.0);
      if (auto t = p.find("log_tail"); t != p.end() && t->is_array())
        for (const auto& l : *t)
          if (l.is_string()) ps.log_tail.push_back(l.get<std::string>());
      s.parts[name] = std::move(ps);
    }
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type
    return invalid_input("{}: {}", path.string(), e.what());
  }
  return s;
}

Status write_supervision(const std::filesystem::path& path, const Supervision& s) {
  return write_file_atomic(path, to_json(s).dump(2) + "\n");
}

}  // namespace fp::stack
