#include "paths_step.hpp"

#include <filesystem>
#include <system_error>

#include "kiln/repository_area.hpp"
#include "language_detection.hpp"
#include "safe_paths.hpp"
#include "step_args.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

StepResult RunPathsStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig&) {
  std::string error = CheckArgs("paths", args, {"dir", "languages"});
  std::string dir_arg;
  std::vector<std::string> language_args;
  if (!error.empty() || !StringArg("paths", args, "dir", false, &dir_arg, &error) ||
      !StringListArg("paths", args, "languages", false, &language_args, &error)) {
    return StepResult::Terminal(error);
  }
  fs::path dir = ctx.workspace();
  if (!dir_arg.empty() && dir_arg != ".") {
    if (!ResolveInWorkspace(ctx.workspace(), dir_arg, &dir, &error)) return StepResult::Terminal("cache.paths: " + error);
  }

  std::vector<Language> languages;
  if (args.is_object() && args.contains("languages")) {
    for (const auto& name : language_args) {
      Language language;
      if (!ParseLanguage(name, &language)) {
        return StepResult::Terminal("cache.paths: unknown language \"" + Escape(name) +
                                    "\" (known: maven, gradle, npm, go, nuget, pip)");
      }
      languages.push_back(language);
    }
  } else {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return StepResult::Terminal("cache.paths: dir \"" + Escape(dir.string()) + "\" is not a directory");
    }
    languages = DetectLanguages(dir);
  }

  nlohmann::json out = {{"languages", nlohmann::json::array()},
                        {"env", nlohmann::json::object()},
                        {"dirs", nlohmann::json::object()}};
  // The job's repository's own areas: the job's processes write them (kiln/repository_area.hpp).
  const fs::path area = repository_area::AreaRoot(ctx.build_cache_dir(), ctx.job());
  if (std::string failed = repository_area::MarkUsed(area); !failed.empty()) {
    return StepResult::Retryable("cache.paths: " + failed);
  }
  const fs::path root = repository_area::DependencyRoot(area);
  for (Language language : languages) {
    const LanguageCacheArea language_area = CacheAreaFor(language, root);
    if (std::string failed = PrepareArea(language_area); !failed.empty()) {
      return StepResult::Terminal("cache.paths: " + failed);
    }
    const std::string name(LanguageName(language));
    out["languages"].push_back(name);
    out["dirs"][name] = language_area.root.string();
    for (const auto& [variable, value] : language_area.env) out["env"][variable] = value;
  }
  std::string summary = "languages:";
  for (const auto& l : out["languages"]) summary += " " + l.get<std::string>();
  if (languages.empty()) summary += " none detected";
  ctx.log("cache.paths: " + summary);
  return StepResult::Ok(std::move(out), summary);
}

}  // namespace kiln::cache
