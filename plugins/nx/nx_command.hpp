// Running NX itself: the environment that turns off its daemon, cloud, TUI and analytics and
// puts its cache and task database in the repository's build cache; the executable; and
// the per-run files NX writes for us.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kiln/process.hpp"
#include "language.hpp"
#include "workspace.hpp"

namespace kiln::nx {

/// The variables kiln sets for every NX process and a step's env cannot change: without
/// them NX would start a daemon that outlives the step, talk to NX Cloud, draw a TUI,
/// spawn plugin workers in sessions of their own (out of reach of the step's process
/// group), or keep its cache inside the job's workspace, which is removed with the job.
std::map<std::string, std::string> ManagedNxEnv(const RepoCache& cache);

/// Variables a step's env may change: CI=true, no colours, no npm update notice.
std::map<std::string, std::string> DefaultNxEnv();

/// The dependency cache areas a workspace using `languages` builds with (DependencyCacheAreas,
/// under cache.dependency_root(): one repository's, since its jobs write them), created and marked used now, so that the cache plugin's eviction
/// (least recently used first) sees them in use. Empty on success, else what failed.
std::string PrepareDependencyCaches(const RepoCache& cache, const std::set<Language>& languages,
                                    std::vector<dependency_caches::LanguageCacheArea>* areas);

/// The whole environment of an NX process: DefaultNxEnv, the step's env, the dependency cache
/// `areas`, then ManagedNxEnv.
std::map<std::string, std::string> NxEnvironment(const RepoCache& cache,
                                                 const std::vector<dependency_caches::LanguageCacheArea>& areas,
                                                 const std::map<std::string, std::string>& user_env);

/// <dir>/node_modules/.bin/nx
std::filesystem::path NxExecutable(const std::filesystem::path& dir);

/// A file name under cache.runs() no other run (thread or process) uses.
std::filesystem::path UniqueRunFile(const RepoCache& cache, const std::string& suffix);

/// `target` relative to `dir` (NX joins NX_PROFILE to its working directory, so an
/// absolute path would not do).
std::string RelativeTo(const std::filesystem::path& target, const std::filesystem::path& dir);

/// Reads at most `max_bytes` of a regular file under cache.nx(), which the job's processes
/// can write: never through a link, never a FIFO or device. Empty when it cannot.
std::string ReadNxFile(const RepoCache& cache, const std::filesystem::path& path,
                       std::size_t max_bytes = 64 * 1024 * 1024);

/// What a sandboxed NX or package manager process of this repository sees besides its
/// workspace: the repository's NX state and its dependency cache areas, writable.
std::vector<SandboxMount> SandboxMountsFor(const RepoCache& cache,
                                           const std::vector<dependency_caches::LanguageCacheArea>& areas);

}  // namespace kiln::nx
