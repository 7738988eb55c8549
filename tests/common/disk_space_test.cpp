#include "common/disk_space.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "temp_dir.h"

namespace fp {
namespace {

class DiskSpaceTest : public TempDirTest {
 protected:
  void write(const std::filesystem::path& rel, size_t bytes) {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << std::string(bytes, 'x');
  }
};

TEST_F(DiskSpaceTest, SumsAllocatedBytesOfEveryFileBelowTheRoot) {
  write("a/one", 100000);
  write("a/b/two", 200000);
  write("three", 1);
  auto t = tree_size(dir_);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->files, 3);
  EXPECT_TRUE(t->complete);
  // Allocated blocks: at least the bytes written, not wildly more (4 KiB blocks, directories included).
  EXPECT_GE(t->bytes, 300001);
  EXPECT_LT(t->bytes, 300001 + 64 * 1024);
}

TEST_F(DiskSpaceTest, SparseFilesCountWhatTheyUse) {
  {
    std::ofstream f(dir_ / "sparse");
    f.seekp(50 << 20);  // 50 MiB hole, as Kafka's preallocated index files
    f << 'x';
  }
  auto t = tree_size(dir_);
  ASSERT_TRUE(t.ok());
  EXPECT_LT(t->bytes, 1 << 20);
}

TEST_F(DiskSpaceTest, AWalkCutShortIsMarkedALowerBound) {
  for (int i = 0; i < 20; ++i) write("d/f" + std::to_string(i), 10);
  auto t = tree_size(dir_, TreeSizeLimits{std::chrono::milliseconds(1000), 5});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->complete);
  EXPECT_LE(t->files, 5);
}

TEST_F(DiskSpaceTest, AMissingRootIsNotFound) {
  auto t = tree_size(dir_ / "nope");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, Error::Kind::kNotFound);
}

TEST_F(DiskSpaceTest, FilesystemSpaceIsConsistent) {
  auto fs = filesystem_space(dir_);
  ASSERT_TRUE(fs.ok()) << fs.error().message;
  EXPECT_GT(fs->total_bytes, 0);
  EXPECT_LE(fs->free_bytes, fs->total_bytes);
  EXPECT_LE(fs->used_bytes, fs->total_bytes);
  EXPECT_FALSE(filesystem_space(dir_ / "nope").ok());
}

}  // namespace
}  // namespace fp
