// The plugin's short-lived files (a registry auth file, a labelled copy of a Dockerfile, a
// digest file): written new, never through a file or link already at the path, readable
// by the owner only, and removed when the step is done with them.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::buildah {

/// Removes the file at `path` (if any; an empty path: nothing) when this goes out of scope.
class RemovedFile {
 public:
  explicit RemovedFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~RemovedFile();
  RemovedFile(const RemovedFile&) = delete;
  RemovedFile& operator=(const RemovedFile&) = delete;

 private:
  std::filesystem::path path_;
};

/// Writes `content` to a new file at `path` (mode 0600; O_EXCL, so an existing file or link
/// there is an error). "" or what failed, naming the file as `what` ("" for its path alone).
std::string WriteScratch(const std::filesystem::path& path, const std::string& content, const std::string& what = "");

}  // namespace kiln::buildah
