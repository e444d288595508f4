#include "key_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "errno_text.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

KeyLock::~KeyLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

bool KeyLock::Acquire(const fs::path& path, int operation, std::string* error) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      *error = "cannot open lock \"" + path.string() + "\": " + ErrnoText(errno);
      return false;
    }
    int rc;
    do {
      rc = ::flock(fd, operation);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int e = errno;
      ::close(fd);
      if (e != EWOULDBLOCK) *error = "cannot lock \"" + path.string() + "\": " + ErrnoText(e);
      return false;
    }
    struct stat held {}, current {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &current) == 0 && held.st_ino == current.st_ino &&
        held.st_dev == current.st_dev) {
      fd_ = fd;
      return true;
    }
    ::close(fd);  // removed or replaced while we waited: lock the file that is there now
  }
  *error = "cannot lock \"" + path.string() + "\": it keeps being replaced";
  return false;
}

void KeyLock::Unlink(const fs::path& path) { ::unlink(path.c_str()); }

}  // namespace kiln::cache
