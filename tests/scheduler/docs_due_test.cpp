#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "scheduler/steps.h"

namespace fp::sched {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DocsDue : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("fleetpipe-docs-due-" + std::to_string(::getpid()));
    project_ = root_ / "dbt";
    target_ = root_ / "state" / "dbt" / "target";
    fs::remove_all(root_);
    fs::create_directories(project_ / "models");
    fs::create_directories(target_);
    touch(project_ / "models" / "fct_trips.sql", base_);
    touch(project_ / "models" / "schema.yml", base_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static void touch(const fs::path& p, fs::file_time_type when) {
    std::ofstream(p) << "x";
    fs::last_write_time(p, when);
  }

  fs::path root_;
  fs::path project_;
  fs::path target_;
  fs::file_time_type base_ = fs::file_time_type::clock::now() - 10h;
};

TEST_F(DocsDue, DueWithoutACatalog) {
  auto why = docs_due(target_, project_, 1h, base_ + 1min);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "no catalog.json yet");
}

TEST_F(DocsDue, NotDueWhenTheCatalogIsNewerThanTheProjectAndYoung) {
  touch(target_ / "catalog.json", base_ + 1min);
  EXPECT_FALSE(docs_due(target_, project_, 1h, base_ + 30min).has_value());
}

TEST_F(DocsDue, DueWhenTheCatalogIsOlderThanMaxAge) {
  touch(target_ / "catalog.json", base_ + 1min);
  auto why = docs_due(target_, project_, 1h, base_ + 2h);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("older than 3600 s"), std::string::npos) << *why;
}

TEST_F(DocsDue, DueWhenAModelChangedAfterTheCatalog) {
  touch(target_ / "catalog.json", base_ + 1min);
  touch(project_ / "models" / "schema.yml", base_ + 2min);
  auto why = docs_due(target_, project_, 1h, base_ + 3min);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "models/schema.yml changed");
}

TEST_F(DocsDue, IgnoresDbtsOwnOutputsInsideTheProject) {
  touch(target_ / "catalog.json", base_ + 1min);
  fs::create_directories(project_ / "target");
  fs::create_directories(project_ / "logs");
  touch(project_ / "target" / "manifest.yml", base_ + 5min);
  touch(project_ / "logs" / "dbt.yml", base_ + 5min);
  EXPECT_FALSE(docs_due(target_, project_, 1h, base_ + 6min).has_value());
}

}  // namespace
}  // namespace fp::sched
