// buildah.tag{ image, tags, repository? } -> { tags }
//
// Adds tags to an image of the store. Each entry of `tags` is a tag name, made valid like
// a branch name (SanitizeTag), in `repository` (default: buildah.repository for this job).
#pragma once

#include <nlohmann/json.hpp>

#include "buildah_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::buildah {

StepResult RunTag(const BuildahConfig& config, const nlohmann::json& args, StepContext& ctx);

}  // namespace kiln::buildah
