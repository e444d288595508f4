// Runs one plugin step outside any job (`kiln cache gc|stats`, the worker's cache size
// metrics): a context with the configured caches, a scratch workspace and no job.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "app/engine_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln {

/// Runs `plugin`.`step` with `args`; the step's log lines go to `log`. The plugin must be
/// loaded (PluginHost::find).
StepResult RunMaintenanceStep(EngineContext& engine, Plugin& plugin, const std::string& step,
                              const nlohmann::json& args, std::function<void(std::string_view)> log);

}  // namespace kiln
