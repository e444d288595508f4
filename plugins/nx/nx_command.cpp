#include "nx_command.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

namespace kiln::nx {
namespace fs = std::filesystem;

std::map<std::string, std::string> ManagedNxEnv(const RepoCache& cache) {
  return {
      {"NX_DAEMON", "false"},
      {"NX_NO_CLOUD", "true"},
      {"NX_TUI", "false"},
      {"NX_TASKS_RUNNER_DYNAMIC_OUTPUT", "false"},
      {"NX_ISOLATE_PLUGINS", "false"},  // plugin workers run setsid: keep everything in our group
      {"NX_SKIP_NX_CACHE", "false"},
      {"NX_VERBOSE_LOGGING", "false"},
      {"NX_CACHE_DIRECTORY", cache.nx_cache().string()},
      {"NX_WORKSPACE_DATA_DIRECTORY", cache.nx_workspace_data().string()},
      {"NX_CACHE_PROJECT_GRAPH", "true"},
  };
}

std::map<std::string, std::string> DefaultNxEnv() {
  return {
      {"CI", "true"},        // no prompts, no interactive output
      {"FORCE_COLOR", "0"},  // plain text in the step log
      {"NO_COLOR", "1"},
      {"npm_config_update_notifier", "false"},
  };
}

std::string PrepareDependencyCaches(const RepoCache& cache, const std::set<Language>& languages,
                                    std::vector<dependency_caches::LanguageCacheArea>* areas) {
  *areas = DependencyCacheAreas(languages, cache.build_cache);
  for (const auto& area : *areas) {
    if (std::string failed = dependency_caches::PrepareArea(area); !failed.empty()) return failed;
  }
  return {};
}

std::map<std::string, std::string> NxEnvironment(const RepoCache& cache,
                                                 const std::vector<dependency_caches::LanguageCacheArea>& areas,
                                                 const std::map<std::string, std::string>& user_env) {
  std::map<std::string, std::string> env = DefaultNxEnv();
  for (const auto& [key, value] : user_env) env[key] = value;
  for (auto& [key, value] : DependencyCacheEnv(areas, user_env)) env[key] = value;
  for (auto& [key, value] : ManagedNxEnv(cache)) env[key] = value;
  return env;
}

fs::path NxExecutable(const fs::path& dir) { return dir / "node_modules" / ".bin" / "nx"; }

fs::path UniqueRunFile(const RepoCache& cache, const std::string& suffix) {
  static std::atomic<unsigned long> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  std::ostringstream name;
  name << "run-" << ::getpid() << "-" << counter.fetch_add(1) << "-" << now << suffix;
  std::error_code ec;
  fs::create_directories(cache.runs(), ec);
  return cache.runs() / name.str();
}

std::string RelativeTo(const fs::path& target, const fs::path& dir) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(dir, ec);
  const fs::path file = fs::weakly_canonical(target, ec);
  return file.lexically_relative(base).string();
}

std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace kiln::nx
