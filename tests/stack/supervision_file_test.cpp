#include "stack/supervision_file.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "temp_dir.h"

namespace fp::stack {
namespace {

using SupervisionFileTest = TempDirTest;

TEST_F(SupervisionFileTest, RoundTrips) {
  Supervision s;
  s.updated_unix = 1700000000.5;
  PartSupervision p;
  p.phase = "failed";
  p.restarts = 4;
  p.last_exit = "exited with 3";
  p.last_death_unix = 1700000000;
  p.log_tail = {"line \"one\"", "line two"};
  s.parts["webapp"] = p;
  s.parts["kafka"] = PartSupervision{};
  ASSERT_TRUE(write_supervision(dir_ / "run" / "supervision.json", s).ok());
  auto back = read_supervision(dir_ / "run" / "supervision.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_DOUBLE_EQ(back->updated_unix, 1700000000.5);
  ASSERT_EQ(back->parts.size(), 2u);
  const auto& w = back->parts.at("webapp");
  EXPECT_EQ(w.phase, "failed");
  EXPECT_EQ(w.restarts, 4);
  EXPECT_EQ(w.last_exit, "exited with 3");
  EXPECT_EQ(w.log_tail, p.log_tail);
  EXPECT_EQ(back->parts.at("kafka").phase, "running");
}

TEST_F(SupervisionFileTest, AMissingOrForeignFileIsAnErrorNotACrash) {
  auto missing = read_supervision(dir_ / "absent.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Error::Kind::kNotFound);
  for (const char* text : {"not json", "[]", R"({"parts": 3})", R"({"parts": {"x": 1}})",
                           R"({"parts": {"x": {"restarts": "many"}}})"}) {
    ASSERT_TRUE(write_file_atomic(dir_ / "bad.json", text).ok());
    EXPECT_FALSE(read_supervision(dir_ / "bad.json").ok()) << text;
  }
}

}  // namespace
}  // namespace fp::stack
