#include "generator/source.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/trip/text.h"
#include "temp_dir.h"

namespace fp::gen {
namespace {

class CsvSourceTest : public TempDirTest {};

// A line far longer than any trip (a file without newlines, a binary blob) is rejected with its reason and
// read past, not held whole; the lines around it are read as usual and nothing after it is lost.
TEST_F(CsvSourceTest, AnOverlongLineIsRejectedAndTheNextLinesStillRead) {
  const auto path = dir_ / "trips.csv";
  {
    std::ofstream f(path, std::ios::binary);
    f << trip::kCsvHeader << "\n"
      << "4,1,86,2024-04-15 17:55:03,49.72224,-97.1384,30,1075,64,19.2,yellow\n"
      << std::string(1 << 20, 'x') << std::string(1, '\0') << "tail\n"
      << "4,1,87,2024-04-15 17:56:03,49.72224,-97.1384,30,1076,64,19.2,yellow\n";
  }
  auto src = open_csv(path.string());
  ASSERT_TRUE(src.ok()) << src.error().message;
  trip::Measurement m;
  std::string reason;
  ASSERT_EQ(*(*src)->next(m, reason), Source::Next::kRow);
  EXPECT_EQ(m.measurement_sequence, 86);
  ASSERT_EQ(*(*src)->next(m, reason), Source::Next::kRejected);
  EXPECT_NE(reason.find("longer than 65536 bytes"), std::string::npos) << reason;
  ASSERT_EQ(*(*src)->next(m, reason), Source::Next::kRow);
  EXPECT_EQ(m.measurement_sequence, 87);
  EXPECT_EQ((*src)->position(), 4u);  // header and three lines: checkpoints count lines the same way
  ASSERT_EQ(*(*src)->next(m, reason), Source::Next::kEnd);
}

// A NUL byte inside a line does not merge it with the next one.
TEST_F(CsvSourceTest, ANulByteRejectsOnlyItsOwnLine) {
  const auto path = dir_ / "trips.csv";
  {
    std::ofstream f(path, std::ios::binary);
    f << trip::kCsvHeader << "\n"
      << std::string(
             "4,1,8\0"
             "6,2024",
             12)
      << "\n"
      << "4,1,87,2024-04-15 17:56:03,49.72224,-97.1384,30,1076,64,19.2,yellow\n";
  }
  auto src = open_csv(path.string());
  ASSERT_TRUE(src.ok()) << src.error().message;
  trip::Measurement m;
  std::string reason;
  EXPECT_EQ(*(*src)->next(m, reason), Source::Next::kRejected);
  ASSERT_EQ(*(*src)->next(m, reason), Source::Next::kRow);
  EXPECT_EQ(m.measurement_sequence, 87);
}

}  // namespace
}  // namespace fp::gen
