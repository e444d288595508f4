#include "build_step.hpp"

#include <set>
#include <system_error>

#include "install.hpp"
#include "kiln/step_context.hpp"
#include "language.hpp"
#include "nx_command.hpp"
#include "nx_results.hpp"
#include "workspace.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {

constexpr const char* kBuildStep = "nx.build: ";

/// A project or target name that is safe as one item of a comma-separated NX option.
bool PlainName(const std::string& name) {
  if (name.empty() || name[0] == '-') return false;
  for (char c : name) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '=' || c == '\0') return false;
  }
  return true;
}

/// A git revision as NX passes it to git: no option, no whitespace.
bool PlainRevision(const std::string& rev) {
  if (rev.empty() || rev[0] == '-' || rev.size() > 256) return false;
  for (char c : rev) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\0') return false;
  }
  return true;
}

Parsed<std::vector<std::string>> ParseNames(const nlohmann::json& value, const std::string& key) {
  if (value.is_string()) {
    if (!PlainName(value.get<std::string>())) return kBuildStep + key + ": '" + value.get<std::string>() + "' is not a valid name";
    return std::vector<std::string>{value.get<std::string>()};
  }
  if (!value.is_array()) return std::string(kBuildStep) + key + ": must be a list of names, got a " + value.type_name();
  std::vector<std::string> names;
  for (const auto& item : value) {
    if (!item.is_string() || !PlainName(item.get<std::string>())) {
      return std::string(kBuildStep) + key + ": '" + (item.is_string() ? item.get<std::string>() : item.dump()) +
             "' is not a valid name";
    }
    names.push_back(item.get<std::string>());
  }
  return names;
}

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string JoinLanguages(const std::set<Language>& languages) {
  std::vector<std::string> names;
  for (auto language : languages) names.emplace_back(ToString(language));
  return names.empty() ? "none" : Join(names, ", ");
}

bool AllZeros(const std::string& rev) { return rev.find_first_not_of('0') == std::string::npos; }

/// `git cat-file -e <rev>^{commit}` in the workspace: a shallow clone may lack the base.
bool CommitPresent(StepContext& ctx, const fs::path& dir, const std::string& rev) {
  ProcessSpec spec;
  spec.argv = {"git", "-C", dir.string(), "cat-file", "-e", rev + "^{commit}"};
  spec.cwd = dir.string();
  spec.log_output = false;
  return ctx.run(spec).ok();
}

/// The tail of the failing task's own output: NX's stored terminal output for it, else
/// its lines in the streamed output, else the end of everything NX printed.
std::string FailureTail(const RepoCache& cache, const TaskOutcome& task, const std::string& output) {
  const std::string hash = TaskHashFromRunSummary(ReadNxFile(cache, cache.nx_cache() / "run.json"), task.id);
  if (!hash.empty()) {
    std::string own = ReadNxFile(cache, cache.nx_cache() / "terminalOutputs" / hash);
    if (!own.empty()) return TailLines(own, 40, 4000);
  }
  std::string lines = LinesOfProject(output, task.project);
  if (!lines.empty()) return TailLines(lines, 40, 4000);
  return TailLines(output, 40, 4000);
}

nlohmann::json TasksJson(const std::vector<TaskOutcome>& tasks) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& task : tasks) {
    list.push_back({{"task", task.id},
                    {"project", task.project},
                    {"target", task.target},
                    {"status", task.status},
                    {"duration_ms", static_cast<long long>(task.duration_ms)}});
  }
  return list;
}

}  // namespace

Parsed<BuildArgs> ParseBuildArgs(const nlohmann::json& args, const NxConfig& defaults) {
  BuildArgs out;
  out.install = defaults.install;
  out.parallel = defaults.parallel;
  if (!args.is_object()) return std::string(kBuildStep) + "arguments must be a table, got a " + args.type_name();
  for (const auto& [key, value] : args.items()) {
    if (key == "dir") {
      if (!value.is_string() || value.get<std::string>().empty()) return std::string(kBuildStep) + "dir: must be a non-empty string";
      out.dir = value.get<std::string>();
    } else if (key == "targets" || key == "projects") {
      auto names = ParseNames(value, key);
      if (auto* error = std::get_if<std::string>(&names)) return *error;
      (key == "targets" ? out.targets : out.projects) = std::get<std::vector<std::string>>(names);
      if (key == "targets" && out.targets.empty()) return std::string(kBuildStep) + "targets: must name at least one target";
    } else if (key == "base" || key == "head") {
      if (value.is_null()) continue;
      if (!value.is_string()) return std::string(kBuildStep) + key + ": must be a commit or ref, got a " + value.type_name();
      const auto rev = value.get<std::string>();
      if (!rev.empty() && !PlainRevision(rev)) return std::string(kBuildStep) + key + ": '" + rev + "' is not a valid revision";
      (key == "base" ? out.base : out.head) = rev;
    } else if (key == "parallel") {
      if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > 256) {
        return std::string(kBuildStep) + "parallel: must be an integer from 1 to 256, got " + value.dump();
      }
      out.parallel = value.get<int>();
    } else if (key == "install") {
      auto mode = value.is_string() ? ParseInstallMode(value.get<std::string>()) : std::nullopt;
      if (!mode) return std::string(kBuildStep) + "install: must be 'auto', 'ci' or 'none', got " + value.dump();
      out.install = *mode;
    } else if (key == "env") {
      if (!value.is_object()) return std::string(kBuildStep) + "env: must be a table of strings, got a " + value.type_name();
      for (const auto& [name, item] : value.items()) {
        if (name.empty() || name.find('=') != std::string::npos) return std::string(kBuildStep) + "env: '" + name + "' is not a variable name";
        if (item.is_string()) {
          out.env[name] = item.get<std::string>();
        } else if (item.is_number() || item.is_boolean()) {
          out.env[name] = item.dump();
        } else {
          return std::string(kBuildStep) + "env." + name + ": must be a string, got a " + item.type_name();
        }
      }
    } else {
      return std::string(kBuildStep) + key + ": unknown argument (known: dir, targets, base, head, projects, parallel, install, env)";
    }
  }
  if (out.dir.empty()) return std::string(kBuildStep) + "dir: required (the workspace directory, e.g. src.path)";
  return out;
}

std::vector<std::string> BuildCommand(const BuildArgs& args, bool affected) {
  std::vector<std::string> argv;
  argv.push_back(affected ? "affected" : "run-many");
  argv.push_back("--targets=" + Join(args.targets, ","));
  if (affected) {
    argv.push_back("--base=" + args.base);
    if (!args.head.empty()) argv.push_back("--head=" + args.head);
  } else if (!args.projects.empty()) {
    argv.push_back("--projects=" + Join(args.projects, ","));
  }
  if (args.parallel > 0) argv.push_back("--parallel=" + std::to_string(args.parallel));
  argv.push_back("--outputStyle=stream");
  return argv;
}

StepResult RunBuild(StepContext& ctx, const nlohmann::json& raw_args, const NxConfig& config) {
  auto parsed = ParseBuildArgs(raw_args, config);
  if (auto* error = std::get_if<std::string>(&parsed)) return StepResult::Terminal(*error);
  const BuildArgs& args = std::get<BuildArgs>(parsed);

  std::string error;
  const fs::path dir = ResolveWorkspaceDir(ctx, args.dir, &error);
  if (dir.empty()) return StepResult::Terminal(kBuildStep + error);
  std::error_code ec;
  if (!fs::is_regular_file(dir / "nx.json", ec)) {
    return StepResult::Terminal(std::string(kBuildStep) + "no nx.json in " + dir.string() + ": not an NX workspace");
  }

  const RepoCache cache = RepoCacheFor(ctx);
  const std::set<Language> languages = DetectWorkspaceLanguages(dir);
  std::vector<dependency_caches::LanguageCacheArea> areas;
  if (std::string failed = PrepareDependencyCaches(cache, languages, &areas); !failed.empty()) {
    return StepResult::Retryable(kBuildStep + failed);
  }
  ctx.log("languages in the workspace: " + JoinLanguages(languages) + "; dependency caches under " +
          cache.build_cache.string() + ", NX's cache under " + cache.nx_cache().string());
  auto env = NxEnvironment(cache, areas, args.env);
  const std::vector<SandboxMount> mounts = SandboxMountsFor(cache, areas);
  StepResult installed = SetUpAndInstall(ctx, dir, args.install, cache.npm_area(), &env, mounts);
  if (!installed.ok()) {
    installed.message = kBuildStep + installed.message;
    return installed;
  }
  if (ctx.cancelled()) return StepResult::Terminal(std::string(kBuildStep) + "cancelled");
  const fs::path nx = NxExecutable(dir);
  if (!fs::exists(nx, ec)) {
    return StepResult::Terminal(std::string(kBuildStep) + "NX is not installed: no " + nx.string() +
                                " (is nx in the workspace's devDependencies? install = '" +
                                std::string(ToString(args.install)) + "')");
  }

  // affected needs the base commit in the clone; a new branch's push has none (all zeros).
  bool affected = false;
  if (!args.projects.empty()) {
    if (!args.base.empty()) ctx.log("projects given: building them with run-many, not what is affected since base");
  } else if (!args.base.empty() && !AllZeros(args.base)) {
    affected = CommitPresent(ctx, dir, args.base);
    if (!affected) ctx.warn("base commit " + args.base + " is not in the clone: building every project (run-many)");
  }
  const std::string command = affected ? "affected" : "run-many";

  RepoLock lock(ctx, cache.root / "nx.lock");
  if (!lock.held()) return StepResult::Terminal(kBuildStep + lock.error());

  const fs::path profile = UniqueRunFile(cache, "-profile.json");
  ProcessSpec spec;
  spec.argv = {nx.string()};
  for (auto& arg : BuildCommand(args, affected)) spec.argv.push_back(std::move(arg));
  spec.cwd = dir.string();
  spec.env = env;
  spec.mounts = mounts;
  spec.env["NX_PROFILE"] = RelativeTo(profile, dir);
  spec.tail_bytes = 256 * 1024;
  std::string shown;
  for (std::size_t i = 1; i < spec.argv.size(); ++i) shown += " " + spec.argv[i];
  ctx.log("running nx" + shown + " in " + dir.string());
  ctx.progress(20, "nx " + command + " " + Join(args.targets, ","));

  ProcessResult result = ctx.run(spec);
  const std::string profile_text = ReadNxFile(cache, profile);
  fs::remove(profile, ec);
  if (!result.started) return StepResult::Terminal(std::string(kBuildStep) + "cannot run " + nx.string() + ": " + result.error);
  if (result.cancelled || result.timed_out) {
    return StepResult::Terminal(std::string(kBuildStep) + "nx " + command + " was stopped (" +
                                (result.cancelled ? "cancelled" : "timed out") + ")");
  }

  std::string profile_error;
  auto tasks = profile_text.empty() ? std::nullopt : ParseProfile(profile_text, &profile_error);
  if (!result.ok()) {
    if (tasks) {
      const BuildSummary summary = Summarize(*tasks);
      if (!summary.failed_tasks.empty()) {
        const TaskOutcome& first = summary.failed_tasks.front();
        std::string message = std::string(kBuildStep) + "project " + first.project + " failed its target " + first.target;
        if (summary.failed_tasks.size() > 1) {
          std::vector<std::string> others;
          for (std::size_t i = 1; i < summary.failed_tasks.size(); ++i) others.push_back(summary.failed_tasks[i].id);
          message += " (also failed: " + Join(others, ", ") + ")";
        }
        message += ":\n" + FailureTail(cache, first, result.output_tail);
        return StepResult::Terminal(message);
      }
    }
    return StepResult::Terminal(std::string(kBuildStep) + "nx " + command + " failed (exit " +
                                std::to_string(result.exit_code) + "):\n" + TailLines(result.output_tail, 40, 4000));
  }
  if (!tasks && profile_text.empty()) {
    // NX writes no profile when there was nothing to run (nothing affected).
    tasks.emplace();
  } else if (!tasks) {
    return StepResult::Terminal(std::string(kBuildStep) + "nx " + command + " succeeded but left no readable task profile at " +
                                profile.string() + (profile_error.empty() ? "" : " (" + profile_error + ")"));
  }

  const BuildSummary summary = Summarize(*tasks);
  nlohmann::json languages_json = nlohmann::json::object();
  const auto graph = nlohmann::json::parse(ReadNxFile(cache, cache.nx_workspace_data() / "project-graph.json"), nullptr, false);
  const auto roots = ProjectRoots(graph);
  for (const auto& project : summary.projects) {
    if (auto it = roots.find(project); it != roots.end()) {
      languages_json[project] = std::string(ToString(DetectLanguage(dir / it->second)));
    }
  }
  ctx.progress(100, std::to_string(summary.projects.size()) + " projects, " + std::to_string(summary.cached.size()) +
                        " from cache");
  ctx.log("nx " + command + ": built " + Join(summary.projects, ", ") +
          (summary.cached.empty() ? "" : "; from NX's cache: " + Join(summary.cached, ", ")));
  nlohmann::json outputs = {{"projects", summary.projects},
                            {"cached", summary.cached},
                            {"failed", summary.failed},
                            {"skipped", summary.skipped},
                            {"tasks", TasksJson(*tasks)},
                            {"languages", languages_json},
                            {"command", command},
                            {"package_manager", installed.outputs.value("package_manager", "npm")},
                            {"package_manager_version", installed.outputs.value("package_manager_version", "")},
                            {"package_manager_downloaded", installed.outputs.value("package_manager_downloaded", false)},
                            {"installed", installed.outputs.value("installed", false)}};
  return StepResult::Ok(std::move(outputs));
}

}  // namespace kiln::nx
