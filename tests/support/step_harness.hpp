// Runs one plugin step as the engine would: a real RuntimeStepContext over a temp
// workspace and cache dirs, recording what the step logged and reported.
// For plugin tests: build the plugin's sources into a static library and construct the
// plugin class directly, or load the built .so through PluginHost.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/plugin.hpp"
#include "secrets/redactor.hpp"
#include "secrets/secret_store.hpp"
#include "util/cancellation.hpp"

namespace kiln::testing {

class StepHarness {
 public:
  /// Lays out root/work (the workspace), root/cache/code and root/cache/build.
  explicit StepHarness(const std::filesystem::path& root);

  /// The job message the step sees; a plausible default, change freely.
  nlohmann::json job;
  /// The plugin's config section, as the step's ctx.config() returns it.
  nlohmann::json plugin_config;
  /// Secrets by name; their values are registered for redaction.
  void set_secret(const std::string& name, const std::string& value);

  /// One attempt of `step`. Exceptions escaping the plugin are caught and returned as a
  /// terminal result, as the engine does. `timeout` 0 means none.
  StepResult run(Plugin& plugin, std::string_view step, const nlohmann::json& args,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  /// Cancels the step currently running (from another thread) or the next one.
  void cancel() { cancel_.cancel(); }

  std::filesystem::path workspace() const { return root_ / "work"; }
  std::filesystem::path code_cache_dir() const { return root_ / "cache" / "code"; }
  std::filesystem::path build_cache_dir() const { return root_ / "cache" / "build"; }
  const std::vector<std::string>& logs() const { return logs_; }
  const std::vector<std::pair<double, std::string>>& progress() const { return progress_; }
  /// All the logs joined by '\n'.
  std::string log_text() const;
  Redactor& redactor() { return redactor_; }

 private:
  std::filesystem::path root_;
  Redactor redactor_;
  std::map<std::string, std::string> secret_values_;
  CancellationToken cancel_;
  std::vector<std::string> logs_;
  std::vector<std::pair<double, std::string>> progress_;
  std::mutex mutex_;
};

}  // namespace kiln::testing
