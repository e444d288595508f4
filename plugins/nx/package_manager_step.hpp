// nx.package_manager{ dir }
//   -> { name = "yarn", version = "4.15.0", pinned = true, lockfile = "yarn.lock",
//        linker = "node-modules", paths = { "apps/web/node_modules", "node_modules", ... },
//        key_files = { "yarn.lock", ".yarnrc.yml" } }
//
// What the workspace installs with, and what its install leaves, read from its files without
// running anything: the default pipeline keys and keeps the installed dependencies with it.
#pragma once

#include <nlohmann/json.hpp>

#include "kiln/step_result.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

StepResult RunPackageManager(StepContext& ctx, const nlohmann::json& args);

}  // namespace kiln::nx
