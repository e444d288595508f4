// An flock(2) on a file beside a mirror, so that jobs (threads of one worker, or several
// workers sharing the cache) never fetch into the same mirror at once.
//
// Each MirrorLock opens the lock file itself: flock locks belong to the open file
// description, so two threads of one process exclude each other as two processes do.
// The descriptor is close-on-exec, so processes a step starts never inherit the lock.
// Waiting polls, so that a cancelled step stops waiting.
#pragma once

#include <filesystem>
#include <string>

#include "kiln/step_context.hpp"

namespace kiln::git {

class MirrorLock {
 public:
  enum class Mode { shared, exclusive };

  MirrorLock() = default;
  ~MirrorLock();
  MirrorLock(MirrorLock&& other) noexcept;
  MirrorLock& operator=(MirrorLock&& other) noexcept;
  MirrorLock(const MirrorLock&) = delete;
  MirrorLock& operator=(const MirrorLock&) = delete;

  /// Takes the lock on `lock_file` (created when missing); waits until it is free or the
  /// step is cancelled. Returns false with `error` set when it could not.
  bool Acquire(const std::filesystem::path& lock_file, Mode mode, StepContext& ctx, std::string* error);
  /// Changes the mode of a held lock. Not atomic: another holder may come in between,
  /// which the callers allow (fetches only add objects).
  bool Change(Mode mode, StepContext& ctx, std::string* error);
  void Release();
  bool held() const { return fd_ >= 0; }

 private:
  bool Wait(Mode mode, StepContext& ctx, std::string* error);

  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace kiln::git
