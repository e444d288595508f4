#include "new_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "errno_text.hpp"

namespace kiln::cache {

std::string WriteNewFile(const std::filesystem::path& path, const std::string& content, Flush flush) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create \"" + path.string() + "\": " + ErrnoText(errno);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return "cannot write \"" + path.string() + "\": " + ErrnoText(e);
    }
    done += static_cast<std::size_t>(n);
  }
  if (flush == Flush::yes && ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    return "cannot flush \"" + path.string() + "\": " + ErrnoText(e);
  }
  ::close(fd);
  return {};
}

}  // namespace kiln::cache
