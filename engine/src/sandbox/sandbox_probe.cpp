#include "sandbox/sandbox_probe.hpp"

#include <unistd.h>

#include <filesystem>

#include "process/process_runner.hpp"
#include "sandbox/sandboxed_run.hpp"

namespace kiln {

std::string ProbeSandbox(const SandboxPolicy& policy, const std::string& workspace_root) {
  namespace fs = std::filesystem;
  const fs::path workspace = fs::path(workspace_root) / (".kiln-sandbox-probe-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(workspace, ec);
  if (ec) return "cannot create " + workspace.string() + ": " + ec.message();
  ProcessSpec spec;
  spec.argv = {"true"};
  ProcessRunOptions options;
  options.default_cwd = workspace.string();
  options.base_env = ScrubbedEnvironment(workspace.string());
  ProcessResult result = RunSandboxed(policy, workspace.string(), spec, options);
  fs::remove_all(workspace, ec);
  if (result.ok()) return {};
  std::string why = !result.error.empty() ? result.error : result.output_tail;
  while (!why.empty() && why.back() == '\n') why.pop_back();
  return "the job sandbox does not work here (" + policy.bwrap + "): " + why +
         ". Check that the workspace path and each directory above it can be entered by uid " +
         std::to_string(policy.uid) + " (chmod o+x), that user namespaces are enabled (user.max_user_namespaces), "
         "or set sandbox.enabled: false to run jobs unsandboxed (docs/security.md)";
}

}  // namespace kiln
