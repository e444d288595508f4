// Where an NX workspace is, and where one repository's caches live in the build cache.
//
// Layout under StepContext::build_cache_dir() (`build.build_cache_path`), inside the job's
// repository area (kiln/repository_area.hpp: one per repository, and one per ref for
// untrusted jobs, so what one repository's processes write never feeds another's build):
//
//   <area>/deps/npm|maven|gradle|go|nuget|pip   the dependency cache areas
//                                            (kiln/dependency_caches.hpp); npm's cache is
//                                            deps/npm/npm, yarn's and pnpm's stores beside it
//   <area>/nx/cache                          NX_CACHE_DIRECTORY: task outputs, kept between jobs
//   <area>/nx/workspace-data                 NX_WORKSPACE_DATA_DIRECTORY: NX's task database
//                                            (without it NX forgets what its cache holds), its
//                                            project graph and file hashes
//   <area>/nx/runs                           each run's profile, removed after reading
//   <area>/nx.lock                           held while NX runs (see RepoLock), outside what
//                                            the sandbox sees
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "kiln/dependency_caches.hpp"
#include "kiln/repository_area.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

struct RepoCache {
  std::filesystem::path build_cache;  // build.build_cache_path
  std::filesystem::path root;         // this repository's area (kiln/repository_area.hpp)
  std::filesystem::path nx() const { return root / "nx"; }
  std::filesystem::path nx_cache() const { return root / "nx" / "cache"; }
  std::filesystem::path nx_workspace_data() const { return root / "nx" / "workspace-data"; }
  std::filesystem::path runs() const { return root / "nx" / "runs"; }
  /// This repository's dependency cache areas (kiln/dependency_caches.hpp). Per repository,
  /// not shared: the job's own processes write them, and a package manager that trusts its
  /// cache (yarn 1 does) would otherwise install what another repository planted there.
  std::filesystem::path dependency_root() const { return repository_area::DependencyRoot(root); }
  /// The npm area: npm's cache (npm/), yarn's and pnpm's stores beside it.
  std::filesystem::path npm_area() const {
    return dependency_caches::CacheAreaFor(dependency_caches::Language::npm, dependency_root()).root;
  }
};

/// The job's repository area, marked used now (so cache.gc leaves it alone while NX runs).
/// Creating it may fail here unnoticed: the step's own mkdir below it says why.
RepoCache RepoCacheFor(StepContext& ctx);

/// Resolves a step's `dir` argument: relative paths are relative to the job's workspace,
/// and the directory must lie inside it once symlinks are resolved (an absolute path too).
/// Returns the canonical path, or an empty path with `error` set ("dir: '../x' leaves the
/// workspace", "directory ... does not exist").
std::filesystem::path ResolveWorkspaceDir(StepContext& ctx, const std::string& dir, std::string* error);

/// An exclusive lock on one repository's NX state (cache, task database, project graph),
/// so two jobs of the same repository on this machine run NX one after the other: NX's
/// run summary and graph cache are not written for concurrent writers. Another process
/// (another worker) using the same build cache honours it too (flock).
class RepoLock {
 public:
  /// Waits for the lock, polling `ctx.cancelled()`; logs once when it has to wait.
  RepoLock(StepContext& ctx, const std::filesystem::path& lock_file);
  ~RepoLock();
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  /// False when the step was cancelled while waiting, or the lock file cannot be opened
  /// (then `error()` says why).
  bool held() const { return held_; }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  bool held_ = false;
  std::string error_;
};

}  // namespace kiln::nx
