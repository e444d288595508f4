// An flock on a file under keyed/.locks/. Lock files are removed by eviction, so after
// locking, the descriptor must still be the file at the path; else the new one is locked.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

namespace kiln::cache {

class KeyLock {
 public:
  KeyLock() = default;
  KeyLock(KeyLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  KeyLock& operator=(KeyLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~KeyLock();
  bool held() const { return fd_ >= 0; }

  /// `operation` is LOCK_SH or LOCK_EX, optionally | LOCK_NB. Returns false when it would
  /// block (LOCK_NB) or fails; `error` set only on failure.
  bool Acquire(const std::filesystem::path& path, int operation, std::string* error);

  /// Removes the lock file while holding it exclusively (the next locker sees a new file).
  void Unlink(const std::filesystem::path& path);

 private:
  int fd_ = -1;
};

}  // namespace kiln::cache
