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
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "kiln/process.hpp"
#include "util/cancellation.hpp"

namespace kiln {

class Redactor;

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
};

/// The base environment for processes of a job rooted at `home`: PATH, HOME, LANG, TMPDIR.
std::map<std::string, std::string> ScrubbedEnvironment(const std::string& home);

ProcessResult RunProcess(const ProcessSpec& spec, const ProcessRunOptions& options);

}  // namespace kiln
