// The trips CSV reader on hostile lines: each is a measurement that passes the shared value rules, or an
// error with its reason.
#include <gtest/gtest.h>

#include "fuzz.h"
#include "generator/csv_parse.h"

namespace fp::gen {
namespace {

TEST(CsvFuzz, ALineIsAValidMeasurementOrAReason) {
  const std::vector<std::string> samples = {
      "4,1,86,2024-04-15 17:55:03,49.72224,-97.1384,30,1075,64,19.2,yellow",
      "1,2,3,2024-02-29 00:00:00,-90,180,15,0,0,0,red\r"};
  const std::vector<std::string> dict = {",", "\"", "\"\"", "2024-13-01", " ", "-", "e", "inf", "1e5"};
  const size_t n = fuzz::run(samples, dict, [](const std::string& input) {
    trip::Measurement m;
    const auto st = parse_csv_line(input, m);
    if (st.ok()) {
      EXPECT_TRUE(validate(m).ok()) << validate(m).error().message;
    } else {
      EXPECT_FALSE(st.error().message.empty());
      EXPECT_EQ(st.error().kind, Error::Kind::kInvalidInput);
    }
    (void)check_csv_header(input);
  });
  EXPECT_GT(n, 10u);
}

}  // namespace
}  // namespace fp::gen
