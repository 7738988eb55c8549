#include "common/kafka/client.h"

#include <charconv>

#include "common/log.h"

namespace fp::kafka {

namespace {
constexpr std::string_view kComponent = "kafka";
}

Error::Kind classify(rd_kafka_resp_err_t err) {
  switch (err) {
    // Connectivity, leadership changes, coordinator moves and timeouts: the cluster is reachable again
    // after a while, so callers should back off and retry.
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__ISR_INSUFF:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return Error::Kind::kTransient;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
    case RD_KAFKA_RESP_ERR__NOENT:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return Error::Kind::kNotFound;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:  // invalid topic name
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return Error::Kind::kInvalidInput;
    default:
      return Error::Kind::kPermanent;
  }
}

Error kafka_error(rd_kafka_resp_err_t err, std::string_view what) {
  return kafka_error(err, what, "");
}

Error kafka_error(rd_kafka_resp_err_t err, std::string_view what, std::string_view detail) {
  std::string_view text = detail.empty() ? std::string_view(rd_kafka_err2str(err)) : detail;
  return Error{fmt::format("{}: {} ({})", what, text, rd_kafka_err2name(err)), classify(err)};
}

Status validate_bootstrap(std::string_view bootstrap) {
  if (bootstrap.empty()) return invalid_input("bootstrap.servers is empty");
  size_t start = 0;
  while (start <= bootstrap.size()) {
    size_t comma = bootstrap.find(',', start);
    std::string_view entry =
        bootstrap.substr(start, comma == std::string_view::npos ? bootstrap.npos : comma - start);
    size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return invalid_input("bootstrap.servers entry '{}' is not host:port", entry);
    std::string_view port_text = entry.substr(colon + 1);
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
      return invalid_input("bootstrap.servers entry '{}' has no valid port", entry);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ok_status();
}

Result<std::unique_ptr<RdKafka::Conf>> make_cpp_conf(const ConfigMap& props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (!conf) return make_error("RdKafka::Conf::create returned null");
  for (const auto& [name, value] : props) {
    std::string errstr;
    if (conf->set(name, value, errstr) != RdKafka::Conf::CONF_OK)
      return invalid_input("kafka property {}={}: {}", name, value, errstr);
  }
  return conf;
}

namespace {
void c_log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  route_log(level, fac ? fac : "", buf ? buf : "");
}
void c_error_cb(rd_kafka_t* rk, int err, const char* reason, void*) {
  bool fatal = err == RD_KAFKA_RESP_ERR__FATAL;
  if (fatal) {
    // The code passed for a fatal error is the generic _FATAL; the underlying cause comes from fatal_error.
    char buf[512];
    rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, buf, sizeof(buf));
    route_error(cause, buf, true);
    return;
  }
  route_error(static_cast<rd_kafka_resp_err_t>(err), reason ? reason : "", false);
}
}  // namespace

Result<CConfPtr> make_c_conf(const ConfigMap& props) {
  CConfPtr conf(rd_kafka_conf_new());
  if (!conf) return make_error("rd_kafka_conf_new returned null");
  char errstr[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
      return invalid_input("kafka property {}={}: {}", name, value, errstr);
  }
  rd_kafka_conf_set_log_cb(conf.get(), c_log_cb);
  rd_kafka_conf_set_error_cb(conf.get(), c_error_cb);
  return conf;
}

void route_log(int level, std::string_view facility, std::string_view message) {
  // syslog levels: 0-3 emerg..err, 4 warning, 5 notice, 6 info, 7 debug.
  log::Level l = level <= 3   ? log::Level::kError
                 : level == 4 ? log::Level::kWarn
                 : level <= 6 ? log::Level::kInfo
                              : log::Level::kDebug;
  // FAIL is a broker connection failure, which librdkafka retries by itself: a warning, not an error.
  if (facility == "FAIL" && l == log::Level::kError) l = log::Level::kWarn;
  if (!log::enabled(l)) return;
  log::emit(l, kComponent, fmt::format("librdkafka {}: {}", facility, message),
            {{"facility", std::string(facility)}});
}

void route_error(rd_kafka_resp_err_t err, std::string_view reason, bool fatal) {
  // librdkafka reports connection trouble here but keeps retrying on its own, so non-fatal transient
  // errors are warnings; the operation that eventually fails returns the error to its caller.
  log::Level l = (fatal || classify(err) != Error::Kind::kTransient) ? log::Level::kError : log::Level::kWarn;
  // A transport error repeats the FAIL log line librdkafka has just emitted; keep one of the two visible.
  if (err == RD_KAFKA_RESP_ERR__TRANSPORT && !fatal) l = log::Level::kDebug;
  if (!log::enabled(l)) return;
  log::emit(l, kComponent, fmt::format("{}{} ({})", fatal ? "FATAL: " : "", reason, rd_kafka_err2name(err)),
            {{"error", rd_kafka_err2name(err)}, {"fatal", fatal}});
}

void RoutingEventCb::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_LOG:
      route_log(static_cast<int>(event.severity()), event.fac(), event.str());
      break;
    case RdKafka::Event::EVENT_ERROR: {
      auto err = static_cast<rd_kafka_resp_err_t>(event.err());
      if (event.fatal() && handle_ != nullptr) {
        std::string cause_text;
        // _FATAL only says "a fatal error happened"; the handle knows which one.
        auto cause = static_cast<rd_kafka_resp_err_t>(handle_->fatal_error(cause_text));
        route_error(cause, cause_text, true);
        on_fatal(Error{kafka_error(cause, "fatal error", cause_text).message, Error::Kind::kPermanent});
      } else {
        route_error(err, event.str(), event.fatal());
        if (!event.fatal()) on_error(kafka_error(err, "broker", event.str()));
        if (event.fatal())
          on_fatal(Error{kafka_error(err, "fatal error", event.str()).message, Error::Kind::kPermanent});
      }
      break;
    }
    default:
      break;  // stats and throttle events are not enabled
  }
}

}  // namespace fp::kafka
