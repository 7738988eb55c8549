// Shared pieces of the Kafka clients (producer.h, consumer.h, admin.h): librdkafka
// property maps, the mapping of librdkafka error codes onto fp::Error kinds, and the routing of librdkafka's
// own log and error callbacks into fp::log (component "kafka") so nothing is printed to stderr.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp::kafka {

// librdkafka properties by name, e.g. {"bootstrap.servers", "localhost:9092"}.
using ConfigMap = std::map<std::string, std::string>;

// How long a blocking call may wait; every public call that talks to a broker takes one.
using Millis = std::chrono::milliseconds;

// The fp::Error kind of a librdkafka error code: kTransient for what librdkafka or a retry can get past
// (broker down, leader moving, timeouts, full queue), kNotFound for unknown topics/partitions/groups,
// kInvalidInput for bad arguments and configs, kPermanent for the rest (authorisation, fatal errors, ...).
Error::Kind classify(rd_kafka_resp_err_t err);

// An error named after the code, e.g. "produce to t: Local: Broker transport failure (_TRANSPORT)".
Error kafka_error(rd_kafka_resp_err_t err, std::string_view what);
// Same, with librdkafka's detail string (errstr) instead of the generic text for the code when present.
Error kafka_error(rd_kafka_resp_err_t err, std::string_view what, std::string_view detail);

// Checks that the bootstrap list is non-empty "host:port[,host:port...]" with numeric ports in range.
Status validate_bootstrap(std::string_view bootstrap);

// Builds an RdKafka::Conf (C++ API) from the map; an unknown property or bad value is kInvalidInput.
Result<std::unique_ptr<RdKafka::Conf>> make_cpp_conf(const ConfigMap& props);

// Builds a C rd_kafka_conf_t from the map with log/error callbacks routed to fp::log.
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using CConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
Result<CConfPtr> make_c_conf(const ConfigMap& props);

// Callback bodies shared by the C and C++ handles. `level` is syslog-style (0 emerg .. 7 debug).
void route_log(int level, std::string_view facility, std::string_view message);
void route_error(rd_kafka_resp_err_t err, std::string_view reason, bool fatal);

// EventCb for the C++ handles: logs and errors go to fp::log; a fatal error is also handed to on_fatal
// (with librdkafka's underlying cause) so the owning client can fail its next call with it.
class RoutingEventCb : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override;
  // The handle whose fatal_error() is read when a fatal error event arrives (set after creation).
  void set_handle(RdKafka::Handle* handle) { handle_ = handle; }

 protected:
  virtual void on_fatal(const Error&) {}
  // Non-fatal errors librdkafka is retrying past (e.g. "Connect to 127.0.0.1:1 failed: Connection refused").
  virtual void on_error(const Error&) {}

 private:
  RdKafka::Handle* handle_ = nullptr;
};

}  // namespace fp::kafka
