// cache.stats{} and cache.gc{ max_size?, max_age? } (defaults: the `cache:` config section).
//
//   stats -> { total_bytes, areas = { maven = { bytes, entries, last_used }, ..., keyed = {...} } }
//   gc    -> { bytes_before, bytes_after, evicted = { { unit, bytes, reason }, ... }, skipped = {...} }
#pragma once

#include <nlohmann/json.hpp>

#include "cache_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::cache {

StepResult RunStatsStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config);
StepResult RunGcStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config);

}  // namespace kiln::cache
