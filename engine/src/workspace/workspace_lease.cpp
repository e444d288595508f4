#include "workspace/workspace_lease.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "job/job.hpp"
#include "workspace/mounts_under.hpp"

namespace kiln {

namespace {

namespace fs = std::filesystem;
constexpr const char* kLockSuffix = ".kiln-lock";

// Locks `lock_path` without waiting. -1 with errno EWOULDBLOCK when another process holds
// it. The file is checked to still be the one at the path after locking: a holder unlinks
// it before unlocking, and a lock taken on an unlinked file would protect nothing.
int TryLock(const std::string& lock_path, bool create) {
  while (true) {
    // O_CLOEXEC: a step's process must not inherit the lock and keep it after we die.
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      return -1;
    }
    struct stat held {}, now {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      return fd;
    }
    ::close(fd);
    if (!create) {
      errno = ENOENT;
      return -1;
    }
  }
}

// Removes a workspace's directory with everything in it, its mounts detached first: a
// recursive remove must never reach through a mount (mounts_under.hpp). "" or what could
// not go; a mount that would not detach leaves the files alone.
std::string RemoveWorkspaceDir(const std::string& path) {
  if (std::string failed = UnmountEverythingUnder(path); !failed.empty()) return failed;
  std::error_code ec;
  fs::remove_all(path, ec);
  return ec ? "cannot remove " + path + ": " + ec.message() : std::string();
}

}  // namespace

Result<std::unique_ptr<WorkspaceLease>> WorkspaceLease::Acquire(const std::string& root, const std::string& job_id,
                                                                std::chrono::milliseconds wait, bool* busy) {
  if (busy != nullptr) *busy = false;
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return MakeError("cannot create " + root + ": " + ec.message());
  const std::string path = (fs::path(root) / job_id).string();
  const std::string lock_path = path + kLockSuffix;
  const auto give_up = std::chrono::steady_clock::now() + wait;
  int fd = -1;
  while ((fd = TryLock(lock_path, true)) < 0) {
    if (errno != EWOULDBLOCK) return MakeError("cannot lock " + lock_path + ": " + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= give_up) {
      if (busy != nullptr) *busy = true;
      return MakeError("workspace " + path + " is in use by another process (it holds " + lock_path + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // For a person looking at the directory: who holds it.
  std::string holder = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, holder.data(), holder.size(), 0);
  std::unique_ptr<WorkspaceLease> lease(new WorkspaceLease(path, lock_path, fd));
  // What an earlier attempt left (its process died) goes first.
  if (std::string failed = RemoveWorkspaceDir(path); !failed.empty()) return MakeError(failed);
  fs::create_directories(path, ec);
  if (ec) return MakeError("cannot create " + path + ": " + ec.message());
  return lease;
}

WorkspaceLease::~WorkspaceLease() {
  // Kept or not, nothing stays mounted: a kept workspace is for reading, not a mount leak.
  const std::string failed = keep_ ? UnmountEverythingUnder(path_) : RemoveWorkspaceDir(path_);
  if (!failed.empty()) spdlog::warn("workspace {}: {}", path_, failed);
  // Unlinked while still locked: whoever opened the old file finds it gone and retries.
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

WorkspaceSweep SweepAbandonedWorkspaces(const std::string& root) {
  WorkspaceSweep sweep;
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) return sweep;  // no workspace dir yet: nothing to sweep
  const std::string suffix = kLockSuffix;
  std::vector<fs::path> lock_files;  // listed first: the loop below unlinks
  for (const auto& entry : it) lock_files.push_back(entry.path());
  for (const auto& lock_file : lock_files) {
    const std::string name = lock_file.filename().string();
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string job_id = name.substr(0, name.size() - suffix.size());
    if (!IsValidJobId(job_id)) continue;
    int fd = TryLock(lock_file.string(), false);
    if (fd < 0) {
      if (errno == EWOULDBLOCK) ++sweep.in_use;
      continue;
    }
    const std::string workspace = (fs::path(root) / job_id).string();
    if (std::string failed = RemoveWorkspaceDir(workspace); !failed.empty()) {
      ++sweep.failed;
      spdlog::warn("abandoned workspace {}: {}", workspace, failed);
    } else {
      ++sweep.removed;
      ::unlink(lock_file.c_str());
    }
    ::close(fd);
  }
  return sweep;
}

}  // namespace kiln
