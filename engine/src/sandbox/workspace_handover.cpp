#include "sandbox/workspace_handover.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln {

namespace {

thread_local std::uint64_t walk_bytes = 0;
thread_local std::uint64_t walk_stop_after = 0;

int CountEntry(const char*, const struct stat* st, int type, FTW*) {
  if (type == FTW_NS) return 0;
  walk_bytes += static_cast<std::uint64_t>(st->st_blocks) * 512;
  return walk_bytes > walk_stop_after ? 1 : 0;
}

// Each level is opened relative to the directory above it with O_NOFOLLOW, and each entry
// changed relative to its directory without following it: a name swapped for a link while
// the walk runs is changed as a link (harmless), never followed to what it points at, which
// a walk by path names (nftw, chown -R) would do for any component but the last.
std::string HandOverBelow(int dir_fd, const std::string& shown_as, unsigned uid, unsigned gid, int depth) {
  if (depth > 256) return "cannot hand " + shown_as + " to the sandbox uid: nested too deep";
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    return "cannot read " + shown_as + ": " + std::strerror(errno);
  }
  std::string error;
  while (dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    if ((st.st_uid != uid || st.st_gid != gid) &&
        ::fchownat(::dirfd(dir), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT) {
      error = "cannot hand " + shown_as + "/" + name + " to the sandbox uid: " + std::strerror(errno);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      const int child = ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) continue;  // replaced by something else meanwhile: not ours to follow
      error = HandOverBelow(child, shown_as + "/" + name, uid, gid, depth + 1);
      if (!error.empty()) break;
    }
  }
  ::closedir(dir);
  return error;
}

}  // namespace

std::string HandOverWorkspace(const std::string& workspace, unsigned uid, unsigned gid) {
  const int fd = ::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return "cannot open " + workspace + ": " + std::strerror(errno);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_uid != uid || st.st_gid != gid) && ::fchown(fd, uid, gid) != 0) {
    const std::string error = "cannot hand " + workspace + " to the sandbox uid: " + std::strerror(errno);
    ::close(fd);
    return error;
  }
  return HandOverBelow(fd, workspace, uid, gid, 0);
}

std::uint64_t DiskUsage(const std::string& dir, std::uint64_t stop_after) {
  walk_bytes = 0;
  walk_stop_after = stop_after;
  ::nftw(dir.c_str(), CountEntry, 64, FTW_PHYS | FTW_MOUNT);
  return walk_bytes;
}

}  // namespace kiln
