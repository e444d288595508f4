#include "open_beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace kiln::cache {

namespace {

// -1 with ENOSYS where the kernel has no openat2 (before 5.6), or seccomp refuses it.
int OpenAt2(int root_fd, const std::string& relative, int flags, mode_t mode) {
#ifdef SYS_openat2
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
  } while (fd < 0 && errno == EAGAIN);  // a rename raced the lookup: look again
  return fd;
#else
  (void)root_fd, (void)relative, (void)flags, (void)mode;
  errno = ENOSYS;
  return -1;
#endif
}

// One component at a time: every directory opened O_NOFOLLOW from the one before.
int WalkBeneath(int root_fd, const std::string& relative, int flags, mode_t mode) {
  int dir = root_fd;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = relative.find('/', start);
    const std::string component = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (component.empty() || component == "." || component == "..") {
      if (dir != root_fd) ::close(dir);
      errno = EINVAL;
      return -1;
    }
    const bool last = slash == std::string::npos;
    const int next = last ? ::openat(dir, component.c_str(), flags, mode)
                          : ::openat(dir, component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int saved = errno;
    if (dir != root_fd) ::close(dir);
    if (next < 0 || last) {
      errno = saved;
      return next;
    }
    dir = next;
    start = slash + 1;
  }
}

std::atomic<bool> have_openat2{true};

}  // namespace

int OpenBeneath(int root_fd, const std::string& relative, int flags, mode_t mode) {
  flags |= O_NOFOLLOW | O_CLOEXEC;
  if (relative.empty() || relative.front() == '/') {
    errno = EINVAL;
    return -1;
  }
  if (have_openat2.load(std::memory_order_relaxed)) {
    const int fd = OpenAt2(root_fd, relative, flags, mode);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
    if (errno == ENOSYS) have_openat2 = false;
    // EPERM: a seccomp filter refusing openat2 (the walk does the same job), or a real
    // EPERM, which the walk gives again.
  }
  return WalkBeneath(root_fd, relative, flags, mode);
}

int OpenParentBeneath(int root_fd, const std::string& relative, std::string* name) {
  const std::size_t slash = relative.rfind('/');
  if (slash == std::string::npos) {
    *name = relative;
    if (relative.empty() || relative == "." || relative == "..") {
      errno = EINVAL;
      return -1;
    }
    return ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  }
  *name = relative.substr(slash + 1);
  if (name->empty() || *name == "." || *name == "..") {
    errno = EINVAL;
    return -1;
  }
  return OpenBeneath(root_fd, relative.substr(0, slash), O_RDONLY | O_DIRECTORY);
}

}  // namespace kiln::cache
