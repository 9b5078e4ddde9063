#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <system_error>

namespace concord::test_support {
namespace {

TEST(TempDirTest, CreatesAndRemovesAPrivateDirectory) {
  std::string path;
  {
    TempDir dir("concord-support-test");
    path = dir.Path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    EXPECT_NE(path.find("concord-support-test-"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    WriteFile(dir.File("a.json"), "{}");
    std::filesystem::create_directory(dir.File("sub"));
    WriteFile(dir.File("sub/b.txt"), "b");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDirTest, TwoDirectoriesDiffer) {
  TempDir a;
  TempDir b;
  EXPECT_NE(a.Path(), b.Path());
}

TEST(TempDirTest, MoveTransfersOwnership) {
  TempDir a;
  const std::string path = a.Path();
  TempDir b = std::move(a);
  EXPECT_EQ(b.Path(), path);
  EXPECT_TRUE(a.Path().empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(FilesTest, WriteFileReplacesAtomicallyWithANewInode) {
  TempDir dir;
  const std::string path = dir.File("data.json");
  WriteFile(path, "one");
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  WriteFile(path, "two");
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(ReadFile(path), "two");
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.Path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(FilesTest, ReadFileOfAMissingFileThrows) {
  TempDir dir;
  EXPECT_THROW((void)ReadFile(dir.File("missing")), std::system_error);
}

TEST(FreePortTest, ReturnsAUsablePort) {
  const int port = FreePort();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
}

}  // namespace
}  // namespace concord::test_support
