// Secrets never reach error messages, logs or command lines: failures that involve each credential are
// provoked (wrong database passwords, a wrong S3 secret), and their output, every log under the state
// directory and every process's command line are searched for the secrets, real and wrong.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/config.h"

namespace fp {
namespace {

std::string random_marker() {
  std::mt19937_64 rng(std::random_device{}());
  return fmt::format("Wr0ng{:016x}", rng());
}

// Runs a command with extra environment, returning its exit status and everything it printed.
std::pair<int, std::string> run(const std::string& env, const std::string& args) {
  const std::string cmd = env + " ./build/fleetpipe " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Secrets, NoSecretReachesAnErrorALogOrACommandLine) {
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  const std::string wrong = random_marker();
  // Each failure names what failed, never the credential it used.
  const std::vector<std::pair<std::string, std::string>> failures = {
      // The batch lane logs in as the pipeline's role (sql/grants/), provisioning as the administrator.
      {"FLEETPIPE_PIPELINE_DB_PASSWORD=" + wrong, "export --prefix secrets-test"},
      {"FLEETPIPE_PIPELINE_DB_PASSWORD=" + wrong, "load --prefix secrets-test"},
      {"FLEETPIPE_PIPELINE_DB_PASSWORD=" + wrong, "verify --prefix secrets-test"},
      {"AWS_SECRET_ACCESS_KEY=" + wrong, "export --prefix secrets-test"},
      {"POSTGRES_PASSWORD=" + wrong, "db apply"},
  };
  std::string outputs;
  for (const auto& [env, args] : failures) {
    const auto [code, out] = run(env, args);
    EXPECT_NE(code, 0) << args << " with " << env.substr(0, env.find('=')) << " wrong succeeded:\n" << out;
    EXPECT_FALSE(out.empty()) << args << ": a failure says what failed";
    outputs += out;
  }
  std::vector<std::pair<std::string, std::string>> secrets = {
      {"the wrong password", wrong},
      {"POSTGRES_PASSWORD", cfg->webapp.password},
      {"DW_POSTGRES_PASSWORD", cfg->warehouse.password},
      {"CDC_POSTGRES_PASSWORD", cfg->cdc.password},
      {"AWS_SECRET_ACCESS_KEY", cfg->s3.secret_key},
      {"FLEETPIPE_CONSOLE_TOKEN", cfg->console_token},
      {"PGADMIN_DEFAULT_PASSWORD", cfg->pgadmin.password}};
  for (const auto& [service, login] : cfg->logins)
    secrets.emplace_back(fmt::format("{}'s database password", db_service_name(service)), login.password);
  // The outputs of the failures, every log of the stack and its services, and every command line.
  std::vector<std::pair<std::string, std::string>> haystacks = {{"the failures' output", outputs}};
  std::error_code ec;
  for (const auto& dir : {cfg->state_dir / "log", cfg->state_dir / "dbt" / "logs"})
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file()) haystacks.emplace_back(it->path().string(), read_all(it->path()));
  size_t command_lines = 0;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::string cl = read_all(it->path() / "cmdline");
    if (cl.empty()) continue;
    ++command_lines;
    haystacks.emplace_back("command line of pid " + it->path().filename().string(), std::move(cl));
  }
  ASSERT_GT(haystacks.size(), 3u);
  ASSERT_GT(command_lines, 5u);
  for (const auto& [name, secret] : secrets) {
    if (secret.size() < 8) continue;  // unset (the console token may be) or too short to search for
    for (const auto& [where, text] : haystacks)
      EXPECT_EQ(text.find(secret), std::string::npos) << name << " appears in " << where;
  }
}

}  // namespace
}  // namespace fp
