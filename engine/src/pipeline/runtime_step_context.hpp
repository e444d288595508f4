// The engine's StepContext: one per attempt of a step, handed to Plugin::run.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kiln/step_context.hpp"
#include "util/cancellation.hpp"

namespace kiln {

class Redactor;
class SecretStore;

/// What every step of one job shares. Outlives the job's steps.
struct JobResources {
  nlohmann::json job;
  std::string workspace;
  std::string code_cache_dir;
  std::string build_cache_dir;
  const SecretStore* secrets = nullptr;
  Redactor* redactor = nullptr;
  /// Creates the workspace (and the cache roots) the first time a step needs them, so a job
  /// whose steps never run a process or a plugin costs no mkdir and rmdir. Returns an error
  /// message, or "" when they exist. Unset: they exist already.
  std::function<std::string()> prepare_workspace;
};

/// Calls resources.prepare_workspace if set: "" when the workspace is ready, else why not.
inline std::string PrepareWorkspace(const JobResources& resources) {
  return resources.prepare_workspace ? resources.prepare_workspace() : std::string();
}

/// Where a step's log lines and progress go (the job's event stream, a test's recorder).
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

 private:
  const JobResources& resources_;
  const nlohmann::json& plugin_config_;
  const CancellationToken& stop_;
  StepReporter reporter_;
};

}  // namespace kiln
