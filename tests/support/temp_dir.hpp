// A directory under $TMPDIR that is removed, with everything in it, when the object goes.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kiln-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Writes `content` to `path`, creating its parent directories.
void WriteFile(const std::filesystem::path& path, const std::string& content);
std::string ReadFile(const std::filesystem::path& path);
/// Runs a shell command line (test set-up only); returns its exit status, output in `output`.
int Shell(const std::string& command, std::string* output = nullptr);

}  // namespace kiln::testing
