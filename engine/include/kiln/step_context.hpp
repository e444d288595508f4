// kiln plugin SDK: what the engine gives a running step.
//
// One StepContext lives for one attempt of one step and is used from the thread that
// called Plugin::run; it must not be kept after run returns. Everything a step writes
// through it (log lines, progress, process output) is redacted of secrets before it
// leaves the engine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kiln/process.hpp"

namespace kiln {

class StepContext {
 public:
  virtual ~StepContext() = default;

  /// The job message: id, repo {url, name}, commit, branch, before, env, ...
  virtual const nlohmann::json& job() const = 0;
  /// This plugin's own top-level configuration section, as accepted by Plugin::configure
  /// (null when the config has none).
  virtual const nlohmann::json& config() const = 0;
  /// The job's own directory; removed when the job ends.
  virtual std::string workspace() const = 0;
  /// `build.code_cache_path` and `build.build_cache_path`: shared between jobs and workers
  /// on this machine, so a plugin locks what it changes there.
  virtual std::string code_cache_dir() const = 0;
  virtual std::string build_cache_dir() const = 0;

  /// A line for the step's log (a `step.log` event).
  virtual void log(std::string_view line) = 0;
  /// A warning: logged, and a `step.log` event.
  virtual void warn(std::string_view line) = 0;
  /// A `step.progress` event; percent in 0..100.
  virtual void progress(double percent, std::string_view message) = 0;
  /// True once the step is cancelled or past its deadline: stop soon and return
  /// any result (the engine reports the step as cancelled or timed out).
  virtual bool cancelled() const = 0;

  /// Runs a process to its end, streaming its output to the step log; see ProcessSpec.
  virtual ProcessResult run(const ProcessSpec& spec) = 0;

  /// The value of a configured secret (`secrets:` in the config), or nullopt when no
  /// such secret is configured or it cannot be read.
  virtual std::optional<std::string> secret(std::string_view name) = 0;
  /// Redacts `value` from every log, event, state and error from now on (a credential
  /// a plugin obtained some other way).
  virtual void add_redaction(std::string_view value) = 0;
  /// True when `value` contains a configured secret or a value registered for redaction,
  /// so a plugin can keep it from places redaction cannot follow (a registry host in a FROM
  /// line, a command line any local user can read).
  virtual bool is_secret(std::string_view value) const = 0;
};

}  // namespace kiln
