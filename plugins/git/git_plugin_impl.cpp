#include <exception>

#include "git_plugin.hpp"
#include "libgit2_handles.hpp"
#include "read_file_step.hpp"
#include "sync_step.hpp"

namespace kiln::git {

GitPlugin::GitPlugin() : fetcher_(MakeFetcher(config_.transport)) { EnsureLibgit2(); }

std::string GitPlugin::configure(const nlohmann::json& section) {
  std::string error;
  auto parsed = GitConfig::Parse(section, &error);
  if (!parsed) return error;
  config_ = *parsed;
  fetcher_ = MakeFetcher(config_.transport);
  return {};
}

StepResult GitPlugin::run(std::string_view step, const nlohmann::json& args, StepContext& ctx) {
  try {
    if (step == "sync") return SyncStep(config_, *fetcher_).Run(args, ctx);
    if (step == "read_file") return ReadFileStep(config_, *fetcher_).Run(args, ctx);
    return StepResult::Terminal("git: no step named '" + std::string(step) + "' (steps: sync, read_file)");
  } catch (const std::exception& e) {
    return StepResult::Terminal("git." + std::string(step) + ": internal error: " + e.what());
  } catch (...) {
    return StepResult::Terminal("git." + std::string(step) + ": internal error");
  }
}

}  // namespace kiln::git
