// A job's workspace, <root>/<job-id>, held by one process while the job runs.
//
// The holder keeps an flock on <root>/<job-id>.kiln-lock (job ids have no '.', so a lock
// file never names a workspace). The kernel drops the lock when the holder dies, however it
// dies, so a later sweep can tell a workspace left by a SIGKILLed worker (lock free) from one
// another live worker is using right now (lock held), even when several workers on one
// machine share the same workspace_path. flock is per machine: workers on different
// machines must not share one workspace_path over NFS (see docs/operations.md).
//
// Only kiln's own workspaces are swept: a directory without its lock file (a workspace kept
// by build.keep_failed_workspaces, anything else an operator put there) is never touched.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "util/result.hpp"

namespace kiln {

class WorkspaceLease {
 public:
  /// Takes the lock (waiting up to `wait` when another process holds it), then empties and
  /// creates the workspace. The error says which path and why; `busy` is set when the only
  /// problem was another live holder (worth retrying the job later).
  static Result<std::unique_ptr<WorkspaceLease>> Acquire(const std::string& root, const std::string& job_id,
                                                         std::chrono::milliseconds wait, bool* busy = nullptr);
  /// Removes the workspace (unless keep()), then the lock file, then drops the lock.
  ~WorkspaceLease();
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;

  const std::string& path() const { return path_; }
  /// Leave the workspace on disk at the end (it is then the operator's, never swept).
  void keep() { keep_ = true; }

 private:
  WorkspaceLease(std::string path, std::string lock_path, int fd)
      : path_(std::move(path)), lock_path_(std::move(lock_path)), fd_(fd) {}
  std::string path_;
  std::string lock_path_;
  int fd_;
  bool keep_ = false;
};

struct WorkspaceSweep {
  int removed = 0;  // workspaces of processes that are gone
  int in_use = 0;   // held by a live process: left alone
  int failed = 0;   // could not be removed (the reason is logged)
};

/// Removes the workspaces under `root` whose holder is gone (a killed worker's).
WorkspaceSweep SweepAbandonedWorkspaces(const std::string& root);

}  // namespace kiln
