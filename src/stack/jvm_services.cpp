#include "stack/jvm_services.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sstream>

#include "common/files.h"
#include "common/http/client.h"
#include "common/log.h"
#include "common/net.h"
#include "stack/ports.h"
#include "stack/provision.h"

namespace fp::stack {
namespace {

// JVM flags per engine from stack/conf/jvm.env (sized for a 2-core machine running the whole stack); an
// environment variable of the same name (FLEETPIPE_KAFKA_JVM_OPTS, ...) replaces the file's value.
Result<std::vector<std::string>> jvm_opts(const Context& ctx, const std::string& var) {
  std::string value;
  if (const char* v = std::getenv(var.c_str()); v && *v) {
    value = v;
  } else {
    const auto file = FP_TRY(read_env_file(ctx.repo / "stack/conf/jvm.env"), "JVM options");
    auto it = file.find(var);
    if (it == file.end()) return make_error("stack/conf/jvm.env has no {}", var);
    value = it->second;
  }
  std::vector<std::string> out;
  std::istringstream words(value);
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

Result<std::vector<std::string>> java_argv(const Context& ctx, const std::string& opts_var,
                                           const std::string& classpath, const std::string& log_config_prop,
                                           const std::string& log_config) {
  std::vector<std::string> argv = {ctx.java};
  for (auto& o : FP_TRY(jvm_opts(ctx, opts_var), "java")) argv.push_back(std::move(o));
  argv.push_back("-Djava.net.preferIPv4Stack=true");
  argv.push_back("-D" + log_config_prop + "=" + log_config);
  argv.push_back("-cp");
  argv.push_back(classpath + "/*");
  return argv;
}

// How one engine's JVM is launched: which jars, which flags, which logging config, which main class.
struct JvmLaunch {
  std::string part;      // the component name: log file and working directory follow from it
  std::string lib_var;   // FLEETPIPE_*_LIB
  std::string opts_var;  // FLEETPIPE_*_JVM_OPTS
  std::string log_prop;  // the logging framework's configuration property
  std::string log_conf;  // file under stack/conf/
  std::string main_class;
  std::vector<std::string> args;
  std::filesystem::path cwd;
};

Result<SpawnSpec> jvm_spawn_spec(const Context& ctx, const JvmLaunch& l) {
  const auto lib = FP_TRY(ctx.jar_dir(l.lib_var), l.part);
  SpawnSpec s;
  s.argv = FP_TRY(
      java_argv(ctx, l.opts_var, lib, l.log_prop, (ctx.repo / "stack/conf" / l.log_conf).string()), l.part);
  s.argv.push_back(l.main_class);
  s.argv.insert(s.argv.end(), l.args.begin(), l.args.end());
  s.log_file = ctx.log_file(l.part);
  s.cwd = l.cwd;
  return s;
}

}  // namespace

Result<std::string> new_cluster_id() {
  // 16 random bytes in URL-safe base64 without padding, the form StorageTool generates. As Kafka's own
  // Uuid.randomUuid(): an id whose text starts with '-' would be read as an option by the storage tool's
  // argument parser ("--cluster-id: expected one argument"), so draw again.
  while (true) {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) return make_error("cluster id: RAND_bytes failed");
    unsigned char text[25];  // 4 * ceil(16 / 3) + NUL
    const int n = EVP_EncodeBlock(text, raw, sizeof raw);
    std::string id(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
    while (!id.empty() && id.back() == '=') id.pop_back();
    for (auto& c : id) c = c == '+' ? '-' : c == '/' ? '_' : c;
    if (id.front() != '-') return id;
  }
}

// ---------------------------------------------------------------- Kafka broker

KafkaBroker::KafkaBroker(const Context& ctx) {
  auto [h, p] = host_port(ctx.cfg.kafka_bootstrap, 9092);
  host_ = h;
  port_ = p;
  const char* c = std::getenv("FLEETPIPE_KAFKA_CONTROLLER_PORT");
  controller_port_ = c && *c ? std::atoi(c) : port_ + 1;
}

Status KafkaBroker::prepare(Context& ctx) {
  const auto conf = FP_TRY(render_template(ctx.repo / "stack/conf/kafka-server.properties",
                                           {{"STATE_DIR", ctx.state().string()},
                                            {"KAFKA_PORT", std::to_string(port_)},
                                            {"CONTROLLER_PORT", std::to_string(controller_port_)}}),
                           "kafka");
  FP_CHECK(write_file_atomic(config_file(ctx), conf), "kafka");
  // A formatted log directory carries meta.properties; formatting again would be refused, so do it once.
  if (std::filesystem::exists(ctx.state() / "kafka/data/meta.properties")) return ok_status();
  const auto lib = FP_TRY(ctx.jar_dir("FLEETPIPE_KAFKA_LIB"), "kafka");
  log::info("stack", "formatting the Kafka log directory (KRaft, standalone controller)");
  SpawnSpec fmt_spec;
  fmt_spec.argv = FP_TRY(java_argv(ctx, "FLEETPIPE_KAFKA_TOOLS_JVM_OPTS", lib, "log4j2.configurationFile",
                                   (ctx.repo / "stack/conf/log4j2-tools.xml").string()),
                         "kafka");
  for (const char* a : {"kafka.tools.StorageTool", "format", "--standalone", "-t"})
    fmt_spec.argv.push_back(a);
  fmt_spec.argv.push_back(FP_TRY(new_cluster_id(), "kafka"));
  fmt_spec.argv.push_back("-c");
  fmt_spec.argv.push_back(config_file(ctx).string());
  fmt_spec.log_file = ctx.log_file("kafka");
  auto rc = run_to_completion(fmt_spec, std::chrono::seconds(120));
  if (!rc) return rc.error().context("kafka: format storage");
  if (*rc != 0)
    return make_error("kafka: storage format exited with {} (see {})", *rc, ctx.log_file("kafka").string());
  return ok_status();
}

Result<SpawnSpec> KafkaBroker::spawn_spec(Context& ctx) {
  return jvm_spawn_spec(ctx, {"kafka",
                              "FLEETPIPE_KAFKA_LIB",
                              "FLEETPIPE_KAFKA_JVM_OPTS",
                              "log4j2.configurationFile",
                              "log4j2.xml",
                              "kafka.Kafka",
                              {config_file(ctx).string()},
                              ctx.state() / "kafka"});
}

Status KafkaBroker::health(Context&) {
  if (!tcp_accepts(host_, port_))
    return transient_error("kafka does not accept connections on {}:{}", host_, port_);
  return kafka_ready(host_, port_);
}

Status KafkaBroker::condition(Context& ctx, std::vector<std::string>* warnings) {
  return consumer_groups_retained(ctx, warnings);
}

Status KafkaBroker::provision(Context& ctx) {
  return apply_topics(ctx);
}

// ---------------------------------------------------------------- Kafka Connect

KafkaConnect::KafkaConnect(const Context& ctx) : url_(ctx.cfg.connect_url) {
  port_ = host_port(url_, 8083).second;
}

Status KafkaConnect::prepare(Context& ctx) {
  const auto plugins = FP_TRY(ctx.jar_dir("FLEETPIPE_CONNECT_PLUGINS"), "kafka-connect");
  const auto conf =
      FP_TRY(render_template(ctx.repo / "stack/conf/connect-distributed.properties",
                             {{"KAFKA_PORT", std::to_string(host_port(ctx.cfg.kafka_bootstrap, 9092).second)},
                              {"CONNECT_PORT", std::to_string(port_)},
                              {"PLUGIN_PATH", plugins},
                              {"STATE_DIR", ctx.state().string()}}),
             "kafka-connect");
  return write_file_atomic(ctx.state() / "connect" / "connect-distributed.properties", conf);
}

Result<SpawnSpec> KafkaConnect::spawn_spec(Context& ctx) {
  return jvm_spawn_spec(ctx, {"kafka-connect",
                              "FLEETPIPE_CONNECT_LIB",
                              "FLEETPIPE_CONNECT_JVM_OPTS",
                              "log4j2.configurationFile",
                              "log4j2.xml",
                              "org.apache.kafka.connect.cli.ConnectDistributed",
                              {(ctx.state() / "connect" / "connect-distributed.properties").string()},
                              ctx.state() / "connect"});
}

Status KafkaConnect::health(Context&) {
  // /health answers 200 only once the worker has joined its group and read its config topic; the REST port
  // itself opens seconds earlier.
  auto r = http::get(url_ + "/health", std::chrono::milliseconds(3000));
  if (!r) return transient_error("kafka-connect: {}", r.error().message);
  if (r->status != 200) return transient_error("kafka-connect: GET /health answered {}", r->status);
  return ok_status();
}

Status KafkaConnect::condition(Context& ctx, std::vector<std::string>*) {
  return connectors_running(ctx);
}

Status KafkaConnect::provision(Context& ctx) {
  return apply_connectors(ctx);
}

// ---------------------------------------------------------------- S3Proxy

S3Server::S3Server(const Context& ctx) : url_(ctx.cfg.s3.endpoint) {
  port_ = host_port(url_, 9000).second;
}

Status S3Server::prepare(Context& ctx) {
  if (ctx.cfg.s3.access_key.empty() || ctx.cfg.s3.secret_key.empty())
    return make_error("s3proxy: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set");
  std::error_code ec;
  std::filesystem::create_directories(ctx.state() / "s3proxy" / "data", ec);
  if (ec) return make_error("s3proxy: create data directory: {}", ec.message());
  const auto conf = FP_TRY(
      render_template(ctx.repo / "stack/conf/s3proxy.properties", {{"S3_PORT", std::to_string(port_)},
                                                                   {"S3_ACCESS_KEY", ctx.cfg.s3.access_key},
                                                                   {"S3_SECRET_KEY", ctx.cfg.s3.secret_key},
                                                                   {"STATE_DIR", ctx.state().string()}}),
      "s3proxy");
  // It holds the secret key: readable by us only.
  return write_file_atomic(ctx.state() / "s3proxy" / "s3proxy.properties", conf, /*private_mode=*/true);
}

Result<SpawnSpec> S3Server::spawn_spec(Context& ctx) {
  return jvm_spawn_spec(ctx, {"s3proxy",
                              "FLEETPIPE_S3PROXY_LIB",
                              "FLEETPIPE_S3PROXY_JVM_OPTS",
                              "logback.configurationFile",
                              "logback-s3proxy.xml",
                              "org.gaul.s3proxy.Main",
                              {"--properties", (ctx.state() / "s3proxy" / "s3proxy.properties").string()},
                              ctx.state() / "s3proxy"});
}

Status S3Server::health(Context&) {
  // Any HTTP answer means it serves; an unsigned request is refused with 403, which is what we expect.
  auto r = http::get(url_ + "/", std::chrono::milliseconds(3000));
  if (!r) return transient_error("s3proxy: {}", r.error().message);
  if (r->status >= 500) return transient_error("s3proxy: GET / answered {}", r->status);
  return ok_status();
}

Status S3Server::provision(Context& ctx) {
  return ensure_bucket(ctx);
}

}  // namespace fp::stack
