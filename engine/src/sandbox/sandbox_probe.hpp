// Proves at start that the job sandbox works on this machine, so a worker that cannot
// contain its jobs refuses to serve them instead of failing each one (or running them bare).
#pragma once

#include <string>

#include "sandbox/sandbox_policy.hpp"

namespace kiln {

/// Runs /bin/true in the sandbox with a workspace under `workspace_root` (which must exist).
/// Empty when it worked, else what failed and what to check.
std::string ProbeSandbox(const SandboxPolicy& policy, const std::string& workspace_root);

}  // namespace kiln
