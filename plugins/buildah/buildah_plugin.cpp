#include "buildah_plugin.hpp"

#include <exception>

#include "build_step.hpp"
#include "push_step.hpp"
#include "tag_step.hpp"

namespace kiln::buildah {

std::string BuildahPlugin::configure(const nlohmann::json& section) {
  BuildahConfig parsed;
  if (std::string error = ParseBuildahConfig(section, parsed); !error.empty()) return error;
  config_ = parsed;
  return {};
}

StepResult BuildahPlugin::run(std::string_view step, const nlohmann::json& args, StepContext& ctx) {
  try {
    if (step == "build") return RunBuild(config_, args, ctx);
    if (step == "push") return RunPush(config_, args, ctx);
    if (step == "tag") return RunTag(config_, args, ctx);
    return StepResult::Terminal("buildah: no step named '" + std::string(step) + "' (build, push, tag)");
  } catch (const std::exception& e) {
    return StepResult::Terminal("buildah." + std::string(step) + ": internal error: " + e.what());
  } catch (...) {
    return StepResult::Terminal("buildah." + std::string(step) + ": internal error");
  }
}

}  // namespace kiln::buildah

KILN_PLUGIN(kiln::buildah::BuildahPlugin)
