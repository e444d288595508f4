// cache.hash{ files }: a SHA-256 over the named files (paths and contents), for cache keys.
// `files` is a path or a list, relative to the workspace; the last component may hold
// '*' and '?' wildcards ("package*.json", "**" is not supported). Missing files are
// left out; when none is found the step fails (terminal).
//   -> { hash = "<64 hex>", files = { matched paths, sorted } }
#pragma once

#include <nlohmann/json.hpp>

#include "cache_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::cache {

StepResult RunHashStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config);

}  // namespace kiln::cache
