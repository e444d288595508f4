#include "scratch_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

namespace kiln::buildah {

RemovedFile::~RemovedFile() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove(path_, ec);
}

std::string WriteScratch(const std::filesystem::path& path, const std::string& content, const std::string& what) {
  const std::string named = what.empty() ? path.string() : what + " " + path.string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + named;
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (written != content.size()) return "cannot write " + named;
  return {};
}

}  // namespace kiln::buildah
