#include "support/step_harness.hpp"

#include <exception>

#include "pipeline/runtime_step_context.hpp"

namespace kiln::testing {

StepHarness::StepHarness(const std::filesystem::path& root) : root_(root) {
  std::filesystem::create_directories(workspace());
  std::filesystem::create_directories(code_cache_dir());
  std::filesystem::create_directories(build_cache_dir());
  job = {{"id", "01JTESTJOB0000000000000000"},
         {"repo", {{"url", "https://example.invalid/acme/shop.git"}, {"name", "acme/shop"}}},
         {"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"},
         {"branch", "main"}};
}

void StepHarness::set_secret(const std::string& name, const std::string& value) {
  secret_values_[name] = value;
}

std::string StepHarness::log_text() const {
  std::string text;
  for (const auto& line : logs_) {
    text += line;
    text += '\n';
  }
  return text;
}

StepResult StepHarness::run(Plugin& plugin, std::string_view step, const nlohmann::json& args,
                            std::chrono::milliseconds timeout) {
  std::map<std::string, std::string> specs;
  for (const auto& [name, value] : secret_values_) specs[name] = "env:" + name;
  auto values = secret_values_;
  SecretStore secrets(specs, redactor_, [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  });

  JobResources resources{job, workspace().string(), code_cache_dir().string(), build_cache_dir().string(),
                         &secrets, &redactor_, nullptr, {}};
  CancellationToken step_stop(&cancel_);
  step_stop.set_timeout(timeout);
  StepReporter reporter;
  reporter.log = [this](std::string_view line) {
    std::lock_guard lock(mutex_);
    logs_.emplace_back(line);
  };
  reporter.progress = [this](double percent, std::string_view message) {
    std::lock_guard lock(mutex_);
    progress_.emplace_back(percent, std::string(message));
  };
  RuntimeStepContext ctx(resources, plugin_config, step_stop, reporter);
  try {
    StepResult result = plugin.run(step, args, ctx);
    result.message = redactor_.redact(result.message);
    redactor_.redact_json(result.outputs);
    return result;
  } catch (const std::exception& e) {
    return StepResult::Terminal("plugin " + std::string(plugin.name()) + " threw: " + e.what());
  } catch (...) {
    return StepResult::Terminal("plugin " + std::string(plugin.name()) + " threw an unknown exception");
  }
}

}  // namespace kiln::testing
