#include "common/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "temp_dir.h"

namespace fp {
namespace {

class FilesTest : public TempDirTest {
 protected:
  static mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
};

TEST_F(FilesTest, WritesAtomicallyCreatingTheDirectory) {
  const auto path = dir_ / "a" / "b" / "conf.properties";
  ASSERT_TRUE(write_file_atomic(path, "x=1\n").ok());
  EXPECT_EQ(*read_file(path), "x=1\n");
  EXPECT_EQ(mode_of(path), 0644u);
  // Replacing leaves the new content, whole, and no temporary file behind.
  const std::string big(1 << 20, 'z');
  ASSERT_TRUE(write_file_atomic(path, big).ok());
  EXPECT_TRUE(*read_file(path) == big);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST_F(FilesTest, PrivateFilesAreOwnerOnlyWhateverTheUmask) {
  const auto old = umask(0);
  auto st = write_file_atomic(dir_ / "secret", "password=x\n", /*private_mode=*/true);
  auto pub = write_file_atomic(dir_ / "public", "a\n");
  umask(old);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(mode_of(dir_ / "secret"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "public"), 0644u);
}

TEST_F(FilesTest, ReadsBinaryAndReportsMissingFilesAsNotFound) {
  const std::string bytes("a\0b\r\n", 5);
  ASSERT_TRUE(write_file_atomic(dir_ / "bin", bytes).ok());
  EXPECT_EQ(*read_file(dir_ / "bin"), bytes);
  auto missing = read_file(dir_ / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Error::Kind::kNotFound);
  EXPECT_EQ(missing.error().message, "cannot read " + (dir_ / "nope").string());
}

TEST_F(FilesTest, AWriteThatCannotHappenIsAnError) {
  ASSERT_TRUE(write_file_atomic(dir_ / "file", "x").ok());
  // A path under a regular file: neither the directory nor the temporary file can be made.
  auto st = write_file_atomic(dir_ / "file" / "below", "y");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("below.tmp"), std::string::npos) << st.error().message;
}

TEST_F(FilesTest, LastLinesReadsOnlyTheEndOfAFile) {
  const auto path = dir_ / "part.log";
  EXPECT_TRUE(last_lines(path, 5).empty());  // missing
  std::string text;
  for (int i = 1; i <= 1000; ++i) text += fmt::format("line {}\n", i);
  ASSERT_TRUE(write_file_atomic(path, text).ok());
  EXPECT_EQ(last_lines(path, 3), (std::vector<std::string>{"line 998", "line 999", "line 1000"}));
  // From the last 20 bytes only: the line cut at the start of the window is dropped.
  EXPECT_EQ(last_lines(path, 10, 20), (std::vector<std::string>{"line 999", "line 1000"}));
  ASSERT_TRUE(write_file_atomic(path, "no newline at the end").ok());
  EXPECT_EQ(last_lines(path, 3), std::vector<std::string>{"no newline at the end"});
  ASSERT_TRUE(write_file_atomic(path, std::string(100, 'x')).ok());
  EXPECT_EQ(last_lines(path, 3, 10), std::vector<std::string>{std::string(10, 'x')});  // one long line, cut
}

}  // namespace
}  // namespace fp
