#include "nx_command.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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
  std::error_code ec;
  fs::create_directories(cache.nx(), ec);
  if (ec) return "cannot create " + cache.nx().string() + ": " + ec.message();
  *areas = DependencyCacheAreas(languages, cache.dependency_root());
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

std::string ReadNxFile(const RepoCache& cache, const fs::path& path, std::size_t max_bytes) {
  // The job's NX processes write this directory: a file read here may have been swapped for
  // a link to /etc/shadow, or a FIFO that never ends. Opened beneath the directory, with no
  // link in any component, without blocking, and only if it is a regular file.
  const fs::path relative = path.lexically_relative(cache.nx());
  if (relative.empty() || *relative.begin() == "..") return {};
  const int root = ::open(cache.nx().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return {};
  open_how how{};
  how.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const int fd = static_cast<int>(::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how));
  ::close(root);
  if (fd < 0) return {};
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    char buffer[65536];
    ssize_t got = 0;
    while (text.size() < max_bytes && (got = ::read(fd, buffer, sizeof buffer)) > 0) {
      text.append(buffer, static_cast<std::size_t>(got));
    }
    if (text.size() > max_bytes) text.resize(max_bytes);
  }
  ::close(fd);
  return text;
}

std::vector<SandboxMount> SandboxMountsFor(const RepoCache& cache,
                                           const std::vector<dependency_caches::LanguageCacheArea>& areas) {
  std::vector<SandboxMount> mounts = {{cache.nx().string(), true}};
  for (const auto& area : areas) mounts.push_back({area.root.string(), true});
  return mounts;
}

}  // namespace kiln::nx
