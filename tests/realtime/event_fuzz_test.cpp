// The dashboard's change-event parser on hostile messages (anyone who can produce to the topics can send
// them): each is an event or an error that names what is wrong, never a crash.
#include <gtest/gtest.h>

#include "fuzz.h"
#include "realtime/event.h"

namespace fp::realtime {
namespace {

TEST(EventFuzz, AnyMessageIsAnEventOrAnError) {
  const std::string row =
      R"({"id":42,"vehicle_id":7,"trip_id":3,"measurement_sequence":11,"measurement_time":1700000000500000,)"
      R"("latitude":49.5,"longitude":-123.25,"fuel_capacity":20.0,"distance_traveled":12.5,)"
      R"("fuel_remaining_percent":80.0,"fuel_remaining_gallon":16.0,"color":"blue"})";
  const std::vector<std::string> samples = {
      R"({"schema":{"type":"struct","fields":[]},"payload":{"before":null,"after":)" + row +
          R"(,"op":"c","source":{"ts_ms":1700000000123,"table":"trips"},"ts_ms":1700000000200}})",
      R"({"before":)" + row + R"(,"after":null,"op":"d","source":{"ts_ms":1}})",
      R"({"before":)" + row + R"(,"after":)" + row + R"(,"op":"u"})",
      R"({"before":null,"after":{"id":1,"driver_id":2,"make":"Ford","model":"T","color":"red","fuel_capacity":12},"op":"r"})",
      row};
  const std::vector<std::string> dict = {
      "\"op\":\"u\"", "\"after\":",   "null", "\"measurement_time\":\"2024-04-15 10:00:00\"",
      "1e400",        "\"payload\":", "[",    "{"};
  const size_t n = fuzz::run(samples, dict, [](const std::string& input) {
    for (const char* topic : {"webapp.public.trips", "webapp.public.vehicles", "webapp.public.drivers"}) {
      auto ev = parse_cdc_event(topic, input);
      if (!ev) {
        EXPECT_FALSE(ev.error().message.empty());
      }
    }
    auto direct = parse_direct_trip(input);
    if (!direct) {
      EXPECT_FALSE(direct.error().message.empty());
    }
  });
  EXPECT_GT(n, 10u);
}

TEST(EventFuzz, NestingPastTheBoundIsRefusedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto ev = parse_cdc_event("webapp.public.trips", "{\"payload\":" + deep + "}");
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.error().message.find("nested deeper than"), std::string::npos) << ev.error().message;
  auto big = parse_direct_trip(std::string(2u << 20, ' ') + "{}");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("bytes of JSON"), std::string::npos) << big.error().message;
}

}  // namespace
}  // namespace fp::realtime
