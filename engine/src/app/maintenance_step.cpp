#include "app/maintenance_step.hpp"

#include <filesystem>

#include "pipeline/runtime_step_context.hpp"

namespace kiln {

StepResult RunMaintenanceStep(EngineContext& engine, Plugin& plugin, const std::string& step,
                              const nlohmann::json& args, std::function<void(std::string_view)> log) {
  JobResources resources;
  resources.job = {{"id", std::string(plugin.name()) + "-" + step}};
  resources.workspace = std::filesystem::temp_directory_path().string();
  resources.code_cache_dir = ResolveConfigPath(engine.config, engine.config.build.code_cache_path);
  resources.build_cache_dir = ResolveConfigPath(engine.config, engine.config.build.build_cache_path);
  resources.secrets = engine.secrets.get();
  resources.redactor = &engine.redactor;
  CancellationToken stop;
  StepReporter reporter;
  reporter.log = std::move(log);
  RuntimeStepContext ctx(resources, engine.plugins->config_of(std::string(plugin.name())), stop, reporter);
  return PluginHost::RunStep(plugin, step, args, ctx);
}

}  // namespace kiln
