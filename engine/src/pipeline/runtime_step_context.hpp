// The engine's StepContext: one per attempt of a step, handed to Plugin::run.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kiln/step_context.hpp"
#include "util/cancellation.hpp"

namespace kiln {

class Redactor;
class SecretStore;
struct SandboxPolicy;

/// Why a job's workspace could not be made ready; an empty `error` means it is.
struct WorkspaceReadiness {
  std::string error;
  bool retryable = false;  // another live process holds it for a moment
};

/// What every step of one job shares. Outlives the job's steps.
struct JobResources {
  nlohmann::json job;
  std::string workspace;
  std::string code_cache_dir;
  std::string build_cache_dir;
  const SecretStore* secrets = nullptr;
  Redactor* redactor = nullptr;
  /// The job sandbox every Isolation::job process runs in; null: none (sandbox.enabled false).
  const SandboxPolicy* sandbox = nullptr;
  /// Makes the workspace (and the cache roots) ready the first time something needs it, so a
  /// job of pure Lua steps takes no lease and touches no disk. Unset: they exist already.
  std::function<WorkspaceReadiness()> prepare_workspace;
};

inline WorkspaceReadiness PrepareWorkspace(const JobResources& resources) {
  return resources.prepare_workspace ? resources.prepare_workspace() : WorkspaceReadiness{};
}

/// Where a step's log lines and progress go (the job's event stream, a test's recorder).
/// RuntimeStepContext hands `log` and `warn` only lines already through the job's Redactor
/// (a process's output is masked in the process runner, a plugin's log line in log()).
struct StepReporter {
  std::function<void(std::string_view line)> log;
  std::function<void(std::string_view line)> warn;
  std::function<void(double percent, std::string_view message)> progress;
};

class RuntimeStepContext final : public StepContext {
 public:
  RuntimeStepContext(const JobResources& resources, const nlohmann::json& plugin_config,
                     const CancellationToken& stop, StepReporter reporter);

  const nlohmann::json& job() const override { return resources_.job; }
  const nlohmann::json& config() const override { return plugin_config_; }
  std::string workspace() const override { return resources_.workspace; }
  std::string code_cache_dir() const override { return resources_.code_cache_dir; }
  std::string build_cache_dir() const override { return resources_.build_cache_dir; }
  void log(std::string_view line) override;
  void warn(std::string_view line) override;
  void progress(double percent, std::string_view message) override;
  bool cancelled() const override { return stop_.stopped(); }
  ProcessResult run(const ProcessSpec& spec) override;
  std::optional<std::string> secret(std::string_view name) override;
  void add_redaction(std::string_view value) override;
  bool is_secret(std::string_view value) const override;

 private:
  const JobResources& resources_;
  const nlohmann::json& plugin_config_;
  const CancellationToken& stop_;
  StepReporter reporter_;
};

}  // namespace kiln
