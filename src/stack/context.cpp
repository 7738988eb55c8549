#include <cstdlib>

#include "common/files.h"
#include "stack/component.h"

namespace fp::stack {
namespace {

// The checkout is found from FLEETPIPE_HOME, else by walking up from the binary (build/fleetpipe) and then
// from the working directory until a directory holds both sql/ and stack/conf/.
Result<std::filesystem::path> find_repo() {
  if (const char* home = std::getenv("FLEETPIPE_HOME"); home && *home) return std::filesystem::path(home);
  auto looks_like_repo = [](const std::filesystem::path& p) {
    return std::filesystem::is_directory(p / "sql") && std::filesystem::is_directory(p / "stack" / "conf");
  };
  std::error_code ec;
  std::vector<std::filesystem::path> starts;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe.parent_path());
  starts.push_back(std::filesystem::current_path(ec));
  for (auto p : starts)
    for (; !p.empty() && p != p.root_path(); p = p.parent_path())
      if (looks_like_repo(p)) return p;
  return make_error("cannot find the fleetpipe checkout (sql/ and stack/conf/); set FLEETPIPE_HOME");
}

}  // namespace

Result<std::string> Context::jar_dir(const std::string& var) const {
  auto it = jars.find(var);
  if (it == jars.end() || it->second.empty() || !std::filesystem::is_directory(it->second))
    return make_error("{} is not set or not a directory: run scripts/fetch-jars.sh (make setup) first", var);
  return it->second;
}

Result<Context> Context::load() {
  Context ctx;
  ctx.cfg = FP_TRY(Config::load(), "load configuration");
  ctx.repo = FP_TRY(find_repo(), "locate checkout");
  // Jar directories: the environment wins, then the cache's paths.env written by scripts/fetch-jars.sh.
  const char* cache_env = std::getenv("FLEETPIPE_CACHE");
  const char* home = std::getenv("HOME");
  const std::filesystem::path cache =
      cache_env && *cache_env ? std::filesystem::path(cache_env)
                              : std::filesystem::path(home ? home : "/root") / ".cache" / "fleetpipe";
  if (auto paths = read_env_file(cache / "jars" / "paths.env"); paths.ok()) ctx.jars = *paths;
  for (const char* var :
       {"FLEETPIPE_KAFKA_LIB", "FLEETPIPE_CONNECT_LIB", "FLEETPIPE_CONNECT_PLUGINS", "FLEETPIPE_S3PROXY_LIB"})
    if (const char* v = std::getenv(var); v && *v) ctx.jars[var] = v;
  if (const char* v = std::getenv("JAVA_HOME"); v && *v) ctx.java = std::string(v) + "/bin/java";
  if (const char* v = std::getenv("FLEETPIPE_PG_BIN"); v && *v) ctx.pg_bin = v;
  if (const char* v = std::getenv("FLEETPIPE_PG_OS_USER"); v && *v) ctx.pg_os_user = v;
  return ctx;
}

Result<std::string> render_template(const std::filesystem::path& file,
                                    const std::map<std::string, std::string>& vars) {
  auto read = read_file(file);
  if (!read) return make_error("cannot read template {}", file.string());
  std::string text = std::move(read).value();
  for (const auto& [k, v] : vars) {
    const std::string needle = "@" + k + "@";
    for (size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; pos += v.size())
      text.replace(pos, needle.size(), v);
  }
  // Placeholders are upper-case names between @ signs; any left over means a missing variable.
  for (size_t at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1)) {
    size_t end = at + 1;
    while (end < text.size() && (std::isupper(static_cast<unsigned char>(text[end])) || text[end] == '_' ||
                                 std::isdigit(static_cast<unsigned char>(text[end]))))
      ++end;
    if (end < text.size() && text[end] == '@' && end > at + 1)
      return make_error("template {}: no value for {}", file.string(), text.substr(at, end - at + 1));
  }
  return text;
}

}  // namespace fp::stack
