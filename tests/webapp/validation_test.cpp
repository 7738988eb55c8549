#include <gtest/gtest.h>

#include "common/trip/text.h"
#include "webapp/store.h"
#include "webapp/trip.h"

namespace fp::webapp {
namespace {

std::multimap<std::string, std::string> valid_form() {
  return {{"vehicle_id", "4"},
          {"trip_id", "1"},
          {"measurement_sequence", "86"},
          {"measurement_time", "2024-04-15 17:55:03"},
          {"latitude", "49.72224"},
          {"longitude", "-117.3776"},
          {"fuel_capacity", "30"},
          {"distance_traveled", "1075"},
          {"fuel_remaining_percent", "64"},
          {"fuel_remaining_gallon", "19.2"},
          {"color", "yellow"},
          {"csrf_token", "ignored"}};
}

nlohmann::json valid_json() {
  return {{"vehicle_id", 4},
          {"trip_id", 1},
          {"measurement_sequence", 86},
          {"measurement_time", "2024-04-15 17:55:03"},
          {"latitude", 49.72224},
          {"longitude", -117.3776},
          {"fuel_capacity", 30},
          {"distance_traveled", 1075},
          {"fuel_remaining_percent", 64},
          {"fuel_remaining_gallon", 19.2},
          {"color", "yellow"}};
}

std::string reason_for(const Validation& v, const std::string& field) {
  for (const auto& e : v.errors) {
    if (e.field == field) return e.reason;
  }
  return "";
}

std::multimap<std::string, std::string> with(std::multimap<std::string, std::string> form,
                                             const std::string& k, const std::string& v) {
  form.erase(k);
  form.emplace(k, v);
  return form;
}

TEST(WebappValidation, AcceptsTheSeedMeasurement) {
  auto v = validate_form(valid_form());
  ASSERT_TRUE(v.errors.empty()) << v.errors[0].field << " " << v.errors[0].reason;
  ASSERT_TRUE(v.trip);
  EXPECT_EQ(v.trip->vehicle_id, 4);
  EXPECT_EQ(v.trip->measurement_sequence, 86);
  EXPECT_EQ(trip::format_time(v.trip->measurement_time), "2024-04-15 17:55:03");
  EXPECT_DOUBLE_EQ(v.trip->latitude, 49.72224);
  EXPECT_DOUBLE_EQ(v.trip->fuel_remaining_gallon, 19.2);
  EXPECT_EQ(v.trip->color, "yellow");
}

TEST(WebappValidation, ReportsEveryMissingField) {
  auto v = validate_form({});
  EXPECT_FALSE(v.trip);
  ASSERT_EQ(v.errors.size(), trip_field_names().size());
  for (size_t i = 0; i < v.errors.size(); ++i) {
    EXPECT_EQ(v.errors[i].field, trip_field_names()[i]);  // in form order
    EXPECT_EQ(v.errors[i].reason, "is required");
  }
  EXPECT_EQ(reason_for(validate_form(with(valid_form(), "color", "   ")), "color"), "is required");
}

TEST(WebappValidation, RangesAtAndBeyondTheBounds) {
  EXPECT_TRUE(validate_form(with(valid_form(), "latitude", "90")).trip);
  EXPECT_TRUE(validate_form(with(valid_form(), "latitude", "-90")).trip);
  EXPECT_EQ(reason_for(validate_form(with(valid_form(), "latitude", "90.0001")), "latitude"),
            "must be between -90 and 90");
  EXPECT_TRUE(validate_form(with(valid_form(), "longitude", "-180")).trip);
  EXPECT_NE(reason_for(validate_form(with(valid_form(), "longitude", "180.5")), "longitude"), "");
  EXPECT_EQ(
      reason_for(validate_form(with(valid_form(), "measurement_sequence", "0")), "measurement_sequence"),
      "must be at least 1");
  EXPECT_NE(reason_for(validate_form(with(valid_form(), "vehicle_id", "2147483648")), "vehicle_id"), "");
  EXPECT_TRUE(validate_form(with(valid_form(), "fuel_remaining_percent", "100")).trip);
  EXPECT_NE(reason_for(validate_form(with(valid_form(), "fuel_remaining_percent", "-0.1")),
                       "fuel_remaining_percent"),
            "");
  EXPECT_TRUE(validate_form(with(valid_form(), "fuel_remaining_gallon", "30")).trip);
  EXPECT_NE(reason_for(validate_form(with(valid_form(), "fuel_remaining_gallon", "30.01")),
                       "fuel_remaining_gallon"),
            "");
  EXPECT_NE(
      reason_for(validate_form(with(valid_form(), "fuel_remaining_gallon", "-1")), "fuel_remaining_gallon"),
      "");
  EXPECT_TRUE(validate_form(with(valid_form(), "distance_traveled", "0")).trip);
  EXPECT_NE(reason_for(validate_form(with(valid_form(), "distance_traveled", "-0.5")), "distance_traveled"),
            "");
  EXPECT_NE(reason_for(validate_form(with(valid_form(), "fuel_capacity", "0")), "fuel_capacity"), "");
}

TEST(WebappValidation, WrongTypesAndHostileText) {
  for (const char* bad : {"abc", "1.5", "1e3", "0x10", "4; DROP TABLE trips", "４", "", "1 2"}) {
    auto v = validate_form(with(valid_form(), "vehicle_id", bad));
    EXPECT_FALSE(v.trip) << bad;
    EXPECT_NE(reason_for(v, "vehicle_id"), "") << bad;
  }
  for (const char* bad : {"nan", "inf", "-inf", "1e999", "<script>", "1,5", "0x1p3", "' OR 1=1 --"}) {
    auto v = validate_form(with(valid_form(), "latitude", bad));
    EXPECT_FALSE(v.trip) << bad;
    EXPECT_NE(reason_for(v, "latitude"), "") << bad;
  }
  for (const char* bad :
       {"Red", "red blue", "<b>red</b>", "rot\xC3\xA9", "red'--", "averyveryverylongcolourname"}) {
    EXPECT_NE(reason_for(validate_form(with(valid_form(), "color", bad)), "color"), "") << bad;
  }
  EXPECT_EQ(reason_for(validate_form(with(valid_form(), "color", std::string(100000, 'a'))), "color"),
            "is too long (at most 64 characters)");
  auto twice = valid_form();
  twice.emplace("trip_id", "2");
  EXPECT_EQ(reason_for(validate_form(twice), "trip_id"), "was given more than once");
}

TEST(WebappValidation, MeasurementTimeFormats) {
  EXPECT_EQ(parse_measurement_time("2024-04-15 17:55:03"), "2024-04-15 17:55:03");
  EXPECT_EQ(parse_measurement_time("2024-04-15T17:55:03"), "2024-04-15 17:55:03");
  EXPECT_EQ(parse_measurement_time("2024-04-15T17:55"), "2024-04-15 17:55:00");
  EXPECT_EQ(parse_measurement_time("2024-02-29 00:00:00"), "2024-02-29 00:00:00");
  for (const char* bad : {"2023-02-29 00:00:00", "2024-04-31 10:00:00", "2024-13-01 10:00:00", "2024-04-15",
                          "2024-04-15 24:00:00", "2024-04-15 10:60:00", "15/04/2024 10:00", "now",
                          "2024-04-15 17:55:03'", "2024-84-15 17:55:03", "0000-01-01 00:00:00"}) {
    EXPECT_FALSE(parse_measurement_time(bad)) << bad;
  }
}

TEST(WebappValidation, JsonNeedsRealTypes) {
  auto ok = validate_json(valid_json());
  ASSERT_TRUE(ok.trip) << ok.errors[0].field << " " << ok.errors[0].reason;
  EXPECT_EQ(ok.trip->trip_id, 1);

  auto j = valid_json();
  j["vehicle_id"] = "4";
  j["trip_id"] = 1.5;
  j["latitude"] = "49";
  j["color"] = 7;
  j["measurement_sequence"] = nullptr;
  j["extra"] = true;
  auto v = validate_json(j);
  EXPECT_FALSE(v.trip);
  EXPECT_EQ(reason_for(v, "vehicle_id"), "must be an integer");
  EXPECT_EQ(reason_for(v, "trip_id"), "must be an integer");
  EXPECT_EQ(reason_for(v, "latitude"), "must be a number");
  EXPECT_EQ(reason_for(v, "color"), "must be a string");
  EXPECT_EQ(reason_for(v, "measurement_sequence"), "is required");
  EXPECT_EQ(reason_for(v, "extra"), "is not a field of a trip");

  j = valid_json();
  j["vehicle_id"] = 18446744073709551615ULL;
  EXPECT_NE(reason_for(validate_json(j), "vehicle_id"), "");
  j = valid_json();
  j["vehicle_id"] = -3;
  EXPECT_EQ(reason_for(validate_json(j), "vehicle_id"), "must be at least 1");
  EXPECT_EQ(validate_json(nlohmann::json::array()).errors.at(0).field, "body");
  EXPECT_EQ(validate_json("just a string").errors.at(0).field, "body");
}

TEST(WebappValidation, Cursor) {
  auto c = parse_cursor("12.40");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trip_id, 12);
  EXPECT_EQ(c->measurement_sequence, 40);
  for (const char* bad : {"", "12", "12.", ".4", "a.b", "0.1", "1.-1", "1.2.3", "99999999999.1"}) {
    EXPECT_FALSE(parse_cursor(bad)) << bad;
  }
}

}  // namespace
}  // namespace fp::webapp
