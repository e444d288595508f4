// nx.build{ dir, targets = {"build"}, base?, head?, projects?, parallel?, install?, env? }
//   -> { projects = {...}, cached = {...}, failed = {...}, skipped = {...},
//        tasks = { {task, project, target, status, duration_ms}, ... },
//        languages = { <project> = "go", ... }, command = "affected" | "run-many",
//        package_manager = "npm", installed = bool }
//
// Installs the workspace's packages (see install.hpp), then runs `nx affected` when a base
// commit is given and present in the clone, else `nx run-many`, with NX's cache and task
// database in the repository's build cache (see workspace.hpp). The result comes from NX's
// task profile, not from its prose. A failing task is terminal, with its project, target
// and the tail of its own output; an install that fails on the network is retryable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/step_result.hpp"
#include "nx_config.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

struct BuildArgs {
  std::string dir;
  std::vector<std::string> targets{"build"};
  std::string base;
  std::string head;
  std::vector<std::string> projects;
  int parallel = 0;
  InstallMode install = InstallMode::automatic;
  std::map<std::string, std::string> env;
};

/// Validates the script's arguments; `defaults` gives install and parallel when absent.
/// Errors name the argument: "nx.build: targets: ...".
Parsed<BuildArgs> ParseBuildArgs(const nlohmann::json& args, const NxConfig& defaults);

/// The argv after the nx executable: {"affected"|"run-many", "--targets=...", ...}.
std::vector<std::string> BuildCommand(const BuildArgs& args, bool affected);

StepResult RunBuild(StepContext& ctx, const nlohmann::json& args, const NxConfig& config);

}  // namespace kiln::nx
