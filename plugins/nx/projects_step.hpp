// nx.projects{ dir, install?, env? }
//   -> { projects = { {name = "api", root = "apps/api", language = "go"}, ... } }
//
// The workspace's projects from NX's own project graph (`nx graph --file`), each with the
// language told by the files at its root (language.hpp). Installs packages like nx.build
// when NX is not there yet (install = "auto" skips an up-to-date node_modules).
#pragma once

#include <nlohmann/json.hpp>

#include "kiln/step_result.hpp"
#include "nx_config.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

StepResult RunProjects(StepContext& ctx, const nlohmann::json& args, const NxConfig& config);

}  // namespace kiln::nx
