// buildah.build{ context, dockerfile?, tags?, build_args?, target?, labels?, layers = true,
//                cache_mounts?, network = "none", repository?, created? }
//   -> { image_id, digest, tags, repository, dockerfile }
//
// Builds the context's Dockerfile with `buildah bud` into the configured store, tagged
// with the job's commit short id, its branch made a valid tag, and the given tags, and
// labelled with the OCI revision/source/created labels.
//
// RUN steps get no network unless network = "host". Under chroot isolation buildah 1.28
// refuses `--network none`, so the whole `buildah bud` runs in a fresh network namespace
// (`unshare --net`, which has only a loopback that is down) after the images the
// Dockerfile reads have been pulled (with network) into the store; the build then runs
// with --pull=never. RUN steps never see the worker's environment: buildah gets the
// engine's scrubbed environment and passes only the build args on.
#pragma once

#include <nlohmann/json.hpp>

#include "buildah_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::buildah {

StepResult RunBuild(const BuildahConfig& config, const nlohmann::json& args, StepContext& ctx);

}  // namespace kiln::buildah
