#include "mirror_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace kiln::git {

MirrorLock::~MirrorLock() { Release(); }

MirrorLock::MirrorLock(MirrorLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

MirrorLock& MirrorLock::operator=(MirrorLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

bool MirrorLock::Acquire(const std::filesystem::path& lock_file, Mode mode, StepContext& ctx,
                         std::string* error) {
  Release();
  path_ = lock_file;
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    *error = "cannot open lock file " + lock_file.string() + ": " + std::strerror(errno);
    return false;
  }
  if (!Wait(mode, ctx, error)) {
    Release();
    return false;
  }
  return true;
}

bool MirrorLock::Change(Mode mode, StepContext& ctx, std::string* error) {
  if (fd_ < 0) {
    *error = "no lock held";
    return false;
  }
  return Wait(mode, ctx, error);
}

bool MirrorLock::Wait(Mode mode, StepContext& ctx, std::string* error) {
  const int operation = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
  bool told = false;
  auto delay = std::chrono::milliseconds(5);
  while (::flock(fd_, operation | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      *error = "cannot lock " + path_.string() + ": " + std::strerror(errno);
      return false;
    }
    if (ctx.cancelled()) {
      *error = "cancelled while waiting for the mirror lock " + path_.string();
      return false;
    }
    if (!told) {
      ctx.log("waiting for another job to finish with the mirror (" + path_.string() + ")");
      told = true;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
  return true;
}

void MirrorLock::Release() {
  if (fd_ >= 0) {
    ::close(fd_);  // closing the last descriptor of the open file description drops the lock
    fd_ = -1;
  }
}

}  // namespace kiln::git
