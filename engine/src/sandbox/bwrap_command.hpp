// The bubblewrap command line for one sandboxed process: a pure function of the policy and
// the request, so what a job's process can see is decided (and tested) in one place.
//
// Inside: its own user, PID, mount, IPC, UTS, cgroup and network namespaces; no nested user
// namespaces; the system (/usr, /etc, the top-level links into /usr, read_only_paths)
// read-only with the private paths hidden; a new /proc (its own processes only) and a
// minimal /dev; the workspace read-write at its own path; /tmp and /var/tmp in the
// workspace (so they count against its quota and go with it); the requested mounts; the
// root read-only, so nothing else can be written.
#pragma once

#include <string>
#include <vector>

#include "kiln/process.hpp"
#include "sandbox/sandbox_policy.hpp"

namespace kiln {

struct SandboxedCommand {
  std::string workspace;
  std::string tmp_dir;  // inside the workspace
  std::string cwd;
  std::vector<SandboxMount> mounts;
  /// Egress: bwrap reports its child's pid on info_fd and waits on block_fd until the
  /// network is attached. -1 otherwise.
  int info_fd = -1;
  int block_fd = -1;
  /// The resolved executable and its arguments (argv[0] as the step gave it).
  std::string executable;
  std::vector<std::string> argv;
};

/// bwrap's argv, ending with `--`, the executable and the arguments. (bwrap runs argv[0]
/// of what follows `--`; the step's own argv[0] is kept in the path that is run.)
std::vector<std::string> BwrapArgv(const SandboxPolicy& policy, const SandboxedCommand& command);

/// True when `path` is `root` or below it (both absolute and normal).
bool IsWithin(const std::string& path, const std::string& root);

}  // namespace kiln
