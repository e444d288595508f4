#include "pipeline/runtime_step_context.hpp"

#include "process/process_runner.hpp"
#include "sandbox/sandboxed_run.hpp"
#include "secrets/redactor.hpp"
#include "secrets/secret_store.hpp"

namespace kiln {

RuntimeStepContext::RuntimeStepContext(const JobResources& resources, const nlohmann::json& plugin_config,
                                       const CancellationToken& stop, StepReporter reporter)
    : resources_(resources), plugin_config_(plugin_config), stop_(stop), reporter_(std::move(reporter)) {}

void RuntimeStepContext::log(std::string_view line) {
  if (reporter_.log) reporter_.log(resources_.redactor ? resources_.redactor->redact(line) : std::string(line));
}

void RuntimeStepContext::warn(std::string_view line) {
  std::string clean = resources_.redactor ? resources_.redactor->redact(line) : std::string(line);
  if (reporter_.warn) {
    reporter_.warn(clean);
  } else if (reporter_.log) {
    reporter_.log("warning: " + clean);
  }
}

void RuntimeStepContext::progress(double percent, std::string_view message) {
  if (percent < 0) percent = 0;
  if (percent > 100) percent = 100;
  if (reporter_.progress)
    reporter_.progress(percent, resources_.redactor ? resources_.redactor->redact(message) : std::string(message));
}

ProcessResult RuntimeStepContext::run(const ProcessSpec& spec) {
  ProcessRunOptions options;
  options.default_cwd = resources_.workspace;
  options.base_env = ScrubbedEnvironment(resources_.workspace);
  options.stop = &stop_;
  options.redactor = resources_.redactor;
  options.on_line = [this](std::string_view line) {
    if (reporter_.log) reporter_.log(line);
  };
  if (spec.isolation == Isolation::job && resources_.sandbox != nullptr) {
    return RunSandboxed(*resources_.sandbox, resources_.workspace, spec, std::move(options));
  }
  return RunProcess(spec, options);
}

std::optional<std::string> RuntimeStepContext::secret(std::string_view name) {
  if (resources_.secrets == nullptr) return std::nullopt;
  return resources_.secrets->get(name);
}

void RuntimeStepContext::add_redaction(std::string_view value) {
  if (resources_.redactor) resources_.redactor->add(value);
}

bool RuntimeStepContext::is_secret(std::string_view value) const {
  return resources_.redactor != nullptr && resources_.redactor->contains_secret(value);
}

}  // namespace kiln
