// The ONBUILD triggers a base image carries, checked like the Dockerfile's own lines.
//
// buildah 1.28 runs the triggers in a Docker-format base image's configuration when a
// build starts FROM it (tried: `ONBUILD RUN --mount=type=cache,id=../../..` in a base ran
// in the child build). A repository can name any image in a registry as its base, so the
// triggers are as hostile as its Dockerfile: each goes through ParseDockerfile's checks
// before `buildah bud` runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "buildah_config.hpp"
#include "dockerfile.hpp"
#include "kiln/step_context.hpp"

namespace kiln::buildah {

/// The triggers of image `image_id`, read from its configuration in the store
/// (<root>/<driver>-images/<id>/ "=" base64("sha256:<id>"), containers/storage's name for
/// that big-data item); nullopt when the file cannot be read or parsed.
std::optional<std::vector<std::string>> StoredOnBuildTriggers(const BuildahConfig& config,
                                                              const std::string& image_id);

/// Checks the triggers of each of `images` (name -> id in the store): read from the store,
/// else asked of `buildah inspect`. Returns "" or the error naming the image and the
/// trigger; a trigger that cannot be read is an error too.
std::string CheckOnBuildTriggers(const BuildahConfig& config, const std::map<std::string, std::string>& images,
                                 const std::map<std::string, std::string>& build_args, const IsSecret& is_secret,
                                 const std::filesystem::path& context, StepContext& ctx);

}  // namespace kiln::buildah
