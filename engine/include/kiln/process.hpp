// kiln plugin SDK: running a process from a step.
//
// A step never forks by itself: it asks its StepContext to run a process, so that
// cancellation and timeouts reach the process and everything it started (the process
// runs in its own process group, which is killed as a whole), and its output lands in
// the step's log with secrets redacted.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kiln {

/// Where a process runs (docs/security.md).
enum class Isolation {
  /// Inside the job sandbox: as `sandbox.uid`, in its own user, PID, mount, IPC, UTS and
  /// network namespaces, seeing the system read-only, the job's workspace, a private /tmp
  /// and `ProcessSpec::mounts`, nothing else. For anything that may run the repository's
  /// code: package manager installs, build tools, `kiln.exec`.
  job,
  /// As the worker itself. Only for a plugin's own trusted tool that needs the worker's
  /// state (buildah's image store, git's mirrors) and treats the repository's files as data,
  /// never as code it runs on the host. A plugin choosing this owns that promise.
  worker,
};

/// What a sandboxed process may reach over the network.
enum class Network {
  /// No network at all (a loopback of its own): builds and tests.
  none,
  /// Outbound only, through slirp4netns, never the host's loopback: installs that download.
  egress,
};

/// A host directory or file shown inside the sandbox at the same path.
struct SandboxMount {
  std::string path;
  bool writable = false;
};

struct ProcessSpec {
  /// argv[0] is looked up in PATH; no shell is involved.
  std::vector<std::string> argv;
  /// Working directory; empty means the job's workspace.
  std::string cwd;
  /// Added to the scrubbed base environment (PATH, HOME, LANG, TMPDIR); the worker's own
  /// environment, which may hold secrets, is never passed on.
  std::map<std::string, std::string> env;
  /// 0 means no limit of its own; the step's deadline and cancellation always apply.
  std::chrono::milliseconds timeout{0};
  /// Each line of output (stdout and stderr merged) goes to the step log when true.
  bool log_output = true;
  /// How many bytes of the end of the output to keep in ProcessResult::output_tail.
  std::size_t tail_bytes = 16 * 1024;
  /// Job sandbox by default: see Isolation.
  Isolation isolation = Isolation::job;
  /// With Isolation::job: the network the process gets.
  Network network = Network::none;
  /// With Isolation::job: what it sees besides the system and the workspace, such as the
  /// language caches it was given (kiln/dependency_caches.hpp). Each path must exist.
  std::vector<SandboxMount> mounts;
};

struct ProcessResult {
  /// False when the process could not be started at all; `error` says why.
  bool started = false;
  std::string error;
  /// The exit status, or -1 when the process was ended by a signal.
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;   // its own timeout or the step's deadline passed
  bool cancelled = false;   // the job or step was cancelled
  /// Set when kiln stopped it for another reason, saying why (the job's disk quota).
  std::string stopped_by;
  /// The last `tail_bytes` of the output, redacted.
  std::string output_tail;

  bool ok() const { return started && exit_code == 0 && !timed_out && !cancelled && stopped_by.empty(); }
};

}  // namespace kiln
