// kiln validate: compile a pipeline in the sandbox without running any step.
#include <iostream>

#include "cli/commands.hpp"
#include "pipeline/pipeline_resolver.hpp"
#include "pipeline/pipeline_runtime.hpp"

namespace kiln::cli {

void AddValidateCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("validate", "Load a pipeline in the sandbox without running steps.");
  cmd->add_option("FILE", *file, "the pipeline script")->required();
  cmd->add_option("--config", global.config_path, "config file (for the sandbox limits)");
  cmd->callback([file, &global, &exit_code] {
    EnvLookup env = ProcessEnvironment();
    auto config = LoadConfig(ConfigPathFrom(global.config_path, env), env);
    if (!config) {
      std::cerr << "kiln validate: " << config.error() << "\n";
      exit_code = 2;
      return;
    }
    auto script = ReadPipelineFile(*file);
    if (!script) {
      std::cerr << "kiln validate: " << script.error() << "\n";
      exit_code = 2;
      return;
    }
    SandboxLimits limits;
    limits.memory_bytes = config->pipelines.memory_limit;
    limits.instructions = config->pipelines.instruction_limit;
    limits.script_time = config->pipelines.script_time_limit;
    auto checked = PipelineRuntime::Check(script->source, *file, limits);
    if (!checked) {
      std::cerr << checked.error() << "\n";
      exit_code = 2;
      return;
    }
    std::cout << *file << ": ok\n";
    exit_code = 0;
  });
}

}  // namespace kiln::cli
