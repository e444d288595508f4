// cache.paths{ dir?, languages? }: the dependency cache areas for the languages used in
// `dir` (default: the workspace), created, with the environment that points each
// package manager at its area.
//   -> { languages = {"go", "npm"}, env = { GOMODCACHE = ..., ... }, dirs = { go = ..., npm = ... } }
#pragma once

#include <nlohmann/json.hpp>

#include "cache_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::cache {

StepResult RunPathsStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config);

}  // namespace kiln::cache
