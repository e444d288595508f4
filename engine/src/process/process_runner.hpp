// Runs a process for a step: argv without a shell, a scrubbed environment, its own process
// group, output streamed line by line, stopped with its whole group on cancellation or
// timeout (SIGTERM, then SIGKILL after a grace period), and killed as a group when the
// leader exits, so no child outlives its step. Where cgroup v2 is writable each process also
// gets its own cgroup (process_cgroup.hpp), which catches a daemon that double-forks and
// calls setsid() to leave the group; without it such a daemon survives (docs/operations.md).
// The leader dies with the thread that started it (PR_SET_PDEATHSIG), so the steps of a
// SIGKILLed worker stop too; their own children are then left to the cgroup sweep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/process.hpp"
#include "util/cancellation.hpp"

namespace kiln {

class Redactor;

/// What the child does between fork and exec besides the usual (sandbox/sandboxed_run.hpp
/// sets it). Plain data: after fork only async-signal-safe calls are allowed.
struct ChildSetup {
  /// Descriptors the started program inherits (everything else is closed on exec).
  std::vector<int> inherited_fds;
  /// Run as uid/gid with no supplementary groups (kiln runs as root).
  bool switch_user = false;
  unsigned uid = 0;
  unsigned gid = 0;
  /// RLIMIT_NPROC and RLIMIT_FSIZE; 0 leaves a limit as it is.
  std::uint64_t max_processes = 0;
  std::uint64_t max_file_size = 0;
};

struct ProcessRunOptions {
  /// Used when the spec has no cwd.
  std::string default_cwd;
  /// The scrubbed environment every process starts from; spec.env is added on top.
  std::map<std::string, std::string> base_env;
  /// Polled while the process runs; may be null.
  const CancellationToken* stop = nullptr;
  /// Called with each line of output (without its newline), already redacted.
  std::function<void(std::string_view)> on_line;
  /// May be null; redacts lines and the tail.
  const Redactor* redactor = nullptr;
  /// Between SIGTERM to the group and SIGKILL.
  std::chrono::milliseconds kill_grace{2000};
  ChildSetup child;
  /// Called once the process has started, before its output is read: an error kills it and
  /// becomes ProcessResult::error (started stays false). The sandbox attaches its network here.
  std::function<std::string(int pid)> after_start;
  /// Called about every `watch_interval` while the process runs: a non-empty answer stops it
  /// (its group, then the rest of its cgroup) and becomes ProcessResult::stopped_by.
  std::function<std::string()> watchdog;
  std::chrono::milliseconds watch_interval{1000};
};

/// `name` as a path: itself when it has a '/', else the first executable regular file of
/// that name in env's PATH; empty when there is none.
std::string ResolveExecutable(const std::string& name, const std::map<std::string, std::string>& env);

/// The base environment for processes of a job rooted at `home`: PATH, HOME, LANG, TMPDIR.
std::map<std::string, std::string> ScrubbedEnvironment(const std::string& home);

ProcessResult RunProcess(const ProcessSpec& spec, const ProcessRunOptions& options);

}  // namespace kiln
