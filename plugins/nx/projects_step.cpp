#include "projects_step.hpp"

#include <system_error>

#include "build_step.hpp"
#include "install.hpp"
#include "kiln/step_context.hpp"
#include "language.hpp"
#include "nx_command.hpp"
#include "nx_results.hpp"
#include "workspace.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {
constexpr const char* kProjectsStep = "nx.projects: ";
}

StepResult RunProjects(StepContext& ctx, const nlohmann::json& raw_args, const NxConfig& config) {
  if (!raw_args.is_object()) return StepResult::Terminal(std::string(kProjectsStep) + "arguments must be a table");
  for (const auto& [key, value] : raw_args.items()) {
    if (key != "dir" && key != "install" && key != "env") {
      return StepResult::Terminal(std::string(kProjectsStep) + key + ": unknown argument (known: dir, install, env)");
    }
  }
  // The same rules as nx.build's arguments of the same names.
  auto parsed = ParseBuildArgs(raw_args, config);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::string message = *error;
    message.replace(0, std::string("nx.build: ").size(), kProjectsStep);
    return StepResult::Terminal(message);
  }
  const BuildArgs& args = std::get<BuildArgs>(parsed);

  std::string error;
  const fs::path dir = ResolveWorkspaceDir(ctx, args.dir, &error);
  if (dir.empty()) return StepResult::Terminal(kProjectsStep + error);
  std::error_code ec;
  if (!fs::is_regular_file(dir / "nx.json", ec)) {
    return StepResult::Terminal(std::string(kProjectsStep) + "no nx.json in " + dir.string() + ": not an NX workspace");
  }
  const RepoCache cache = RepoCacheFor(ctx);
  std::vector<dependency_caches::LanguageCacheArea> areas;
  if (std::string failed = PrepareDependencyCaches(cache, DetectWorkspaceLanguages(dir), &areas); !failed.empty()) {
    return StepResult::Retryable(kProjectsStep + failed);
  }
  auto env = NxEnvironment(cache, areas, args.env);
  const std::vector<SandboxMount> mounts = SandboxMountsFor(cache, areas);
  StepResult installed = SetUpAndInstall(ctx, dir, args.install, cache.npm_area(), &env, mounts);
  if (!installed.ok()) {
    installed.message = kProjectsStep + installed.message;
    return installed;
  }
  const fs::path nx = NxExecutable(dir);
  if (!fs::exists(nx, ec)) return StepResult::Terminal(std::string(kProjectsStep) + "NX is not installed: no " + nx.string());

  RepoLock lock(ctx, cache.root / "nx.lock");
  if (!lock.held()) return StepResult::Terminal(kProjectsStep + lock.error());
  const fs::path graph_file = UniqueRunFile(cache, "-graph.json");
  ProcessSpec spec;
  spec.argv = {nx.string(), "graph", "--file=" + graph_file.string()};
  spec.cwd = dir.string();
  spec.env = env;
  spec.mounts = mounts;
  ProcessResult result = ctx.run(spec);
  const auto graph = nlohmann::json::parse(ReadNxFile(cache, graph_file), nullptr, false);
  fs::remove(graph_file, ec);
  if (!result.started) return StepResult::Terminal(std::string(kProjectsStep) + "cannot run " + nx.string() + ": " + result.error);
  if (result.cancelled || result.timed_out) return StepResult::Terminal(std::string(kProjectsStep) + "nx graph was stopped");
  if (!result.ok()) {
    return StepResult::Terminal(std::string(kProjectsStep) + "nx graph failed (exit " + std::to_string(result.exit_code) +
                                "):\n" + TailLines(result.output_tail, 40, 4000));
  }
  const auto roots = ProjectRoots(graph);
  if (graph.is_discarded() || roots.empty()) {
    return StepResult::Terminal(std::string(kProjectsStep) + "nx graph wrote no readable project graph to " + graph_file.string());
  }
  nlohmann::json projects = nlohmann::json::array();
  for (const auto& [name, root] : roots) {
    projects.push_back({{"name", name}, {"root", root}, {"language", std::string(ToString(DetectLanguage(dir / root)))}});
  }
  return StepResult::Ok({{"projects", projects}});
}

}  // namespace kiln::nx
