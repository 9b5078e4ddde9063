#pragma once

#include <string>
#include <string_view>

// Temporary directories and small file helpers for tests. Standard library and POSIX only.
namespace concord::test_support {

// A fresh private directory (mkdtemp under $TMPDIR, else /tmp), removed with everything in it
// when the holder is destroyed. Set CONCORD_KEEP_TMP=1 to keep it for a post-mortem (its path
// is then printed to stderr). Move-only.
class TempDir {
 public:
  // Throws std::system_error if the directory cannot be created.
  explicit TempDir(std::string_view prefix = "concord-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path, without a trailing '/'.
  [[nodiscard]] const std::string& Path() const { return path_; }

  // Path() + "/" + name (the file need not exist).
  [[nodiscard]] std::string File(std::string_view name) const;

 private:
  void Remove() noexcept;
  std::string path_;
};

// Writes `content` to `path` atomically: a temporary file in the same directory, then
// rename(2). A reader (or a server polling the file) sees the old or the new content, never a
// half; the new inode also makes the change visible to mtime/size/inode-based watchers at once.
// Throws std::system_error.
void WriteFile(const std::string& path, std::string_view content);

// The whole content of `path`. Throws std::system_error.
[[nodiscard]] std::string ReadFile(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). Racy by
// nature: prefer letting the server bind port 0 and report the port (concord-fake does).
// Throws std::system_error.
[[nodiscard]] int FreePort();

}  // namespace concord::test_support
