// Runs one process of a job inside the job sandbox: the workspace handed to the sandbox uid,
// the bubblewrap command line, the network the step asked for, the per-job limits (disk
// quota, process count, file size) and the same streaming, cancellation and kill-the-tree
// guarantees as any process (process/process_runner.hpp).
#pragma once

#include "kiln/process.hpp"
#include "process/process_runner.hpp"
#include "sandbox/sandbox_policy.hpp"

namespace kiln {

/// `options` as for RunProcess; its default_cwd must be the workspace.
ProcessResult RunSandboxed(const SandboxPolicy& policy, const std::string& workspace, const ProcessSpec& spec,
                           ProcessRunOptions options);

/// The directory inside a workspace that is the sandbox's /tmp and /var/tmp.
std::string SandboxTmpDir(const std::string& workspace);

}  // namespace kiln
