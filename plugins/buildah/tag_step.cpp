#include "tag_step.hpp"

#include <algorithm>

#include "buildah_cli.hpp"
#include "image_naming.hpp"
#include "step_args.hpp"

namespace kiln::buildah {

StepResult RunTag(const BuildahConfig& config, const nlohmann::json& args, StepContext& ctx) {
  std::string error;
  std::string image;
  std::string repository;
  std::vector<std::string> given;
  if (!(error = CheckKnownArgs(args, {"image", "tags", "repository"})).empty() ||
      !(error = ReadStringArg(args, "image", true, image)).empty() ||
      !(error = ReadStringListArg(args, "tags", given)).empty() ||
      !(error = ReadStringArg(args, "repository", false, repository)).empty()) {
    return StepResult::Terminal("buildah.tag: " + error);
  }
  if (!(error = RefuseOptionLikeName("image", image)).empty()) return StepResult::Terminal("buildah.tag: " + error);
  if (given.empty()) return StepResult::Terminal("buildah.tag: tags: missing");
  if (repository.empty()) {
    repository = ExpandRepository(config.repository, ctx.job(), error);
    if (repository.empty()) return StepResult::Terminal("buildah.tag: buildah.repository: " + error);
  } else if (!IsValidRepository(repository)) {
    return StepResult::Terminal("buildah.tag: repository: '" + repository + "' is not a valid image repository");
  }

  std::vector<std::string> references;
  for (const std::string& raw : given) {
    std::string tag = SanitizeTag(raw);
    if (tag.empty()) return StepResult::Terminal("buildah.tag: tags: '" + raw + "' leaves no valid tag");
    std::string reference = repository + ":" + tag;
    if (std::find(references.begin(), references.end(), reference) == references.end()) {
      references.push_back(reference);
    }
  }

  std::vector<std::string> command = {"tag", "--", image};
  command.insert(command.end(), references.begin(), references.end());
  ProcessResult tagged = RunLogged(ctx, BuildahArgv(config, command));
  if (!tagged.ok()) return FailureResult(tagged, "buildah tag of " + image);
  return StepResult::Ok({{"tags", references}, {"image", image}}, "tagged " + image);
}

}  // namespace kiln::buildah
