// A cgroup v2 per step process, so that nothing a step starts can outlive it: a process
// group is enough for well-behaved children, but a daemon that double-forks and calls
// setsid() leaves the group; it cannot leave its cgroup (moving needs write access to the
// cgroup tree, which kiln's steps are not meant to have).
//
// Layout: <cgroup2 mount><kiln's own cgroup>/kiln.<pid>/run-<n>. The child moves itself into
// run-<n> (writes 0 to its cgroup.procs) between fork and exec; at the end everything in it
// is killed (cgroup.kill, or SIGKILL to each member of a frozen cgroup on kernels before
// 5.14) and the directory removed. SweepAbandonedCgroups() kills and removes the kiln.<pid>
// trees of kiln processes that are gone (a SIGKILLed worker's steps).
//
// Where cgroup v2 is not mounted or not writable (an unprivileged user, a read-only
// /sys/fs/cgroup, systemd's ProtectControlGroups without Delegate), Create() returns null
// and the process runner falls back to process groups alone; AvailabilityNote() says why.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>

namespace kiln {

class ProcessCgroup {
 public:
  /// A fresh, empty cgroup, or null when cgroup v2 cannot be used here.
  static std::unique_ptr<ProcessCgroup> Create();
  /// Kills what is left and removes the cgroup.
  ~ProcessCgroup();
  ProcessCgroup(const ProcessCgroup&) = delete;
  ProcessCgroup& operator=(const ProcessCgroup&) = delete;

  /// The file a child writes "0" to, between fork and exec, to move itself in.
  const std::string& procs_file() const { return procs_file_; }
  /// SIGKILLs every process in the cgroup and waits (bounded) until it is empty.
  void KillAll();

 private:
  explicit ProcessCgroup(std::string path);
  std::string path_;
  std::string procs_file_;
};

/// Whether step processes get a cgroup here, and if not, why (for logs and docs).
std::string CgroupAvailabilityNote();

/// Kills and removes the cgroups left by kiln processes that are gone. Returns how many.
int SweepAbandonedCgroups();

}  // namespace kiln
