// Where an NX workspace is, and where one repository's caches live in the build cache.
//
// Layout under StepContext::build_cache_dir() (`build.build_cache_path`):
//
//   <build cache>/npm|maven|gradle|go|nuget|pip   the dependency cache areas, shared by every
//                                            repository and with the cache plugin
//                                            (kiln/dependency_caches.hpp); npm's cache is
//                                            npm/npm, yarn's and pnpm's stores beside it
//   <build cache>/<repo key>/nx/cache        NX_CACHE_DIRECTORY: task outputs, kept between jobs;
//                                            one per repository (its normalised URL), and one
//                                            per ref for untrusted jobs, so a repository's
//                                            cache never feeds another's build
//   <build cache>/<repo key>/nx/workspace-data  NX_WORKSPACE_DATA_DIRECTORY: NX's task database
//                                            (without it NX forgets what its cache holds), its
//                                            project graph and file hashes
//   <build cache>/<repo key>/nx/.lock        held while NX runs (see RepoLock)
//   <build cache>/<repo key>/nx/runs         each run's profile, removed after reading
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "kiln/dependency_caches.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

/// A directory name for the job's NX cache: job.repo.name (else its URL without scheme,
/// credentials and ".git") with every character outside [A-Za-z0-9._-] replaced, for people,
/// then the job's cache scope (kiln/repository_scope.hpp), which decides: the repository's
/// normalised URL for a trusted job ("acme-shop-repo-<32 hex>"), that and the ref for an
/// untrusted one ("acme-shop-ref-<32 hex>"), so no other repository, and no fork's pull
/// request, writes task outputs a trusted build then replays. "local" without a repository.
std::string RepositoryKey(const nlohmann::json& job);

struct RepoCache {
  std::filesystem::path build_cache;  // build.build_cache_path: the shared dependency areas
  std::filesystem::path root;         // <build cache>/<repo key>: this repository's NX cache
  std::filesystem::path nx() const { return root / "nx"; }
  std::filesystem::path nx_cache() const { return root / "nx" / "cache"; }
  std::filesystem::path nx_workspace_data() const { return root / "nx" / "workspace-data"; }
  std::filesystem::path runs() const { return root / "nx" / "runs"; }
  /// This repository's dependency cache areas (kiln/dependency_caches.hpp). Per repository,
  /// not shared: the job's own processes write them, and a package manager that trusts its
  /// cache (yarn 1 does) would otherwise install what another repository planted there.
  std::filesystem::path dependency_root() const { return root / "deps"; }
  /// The npm area: npm's cache (npm/), yarn's and pnpm's stores beside it.
  std::filesystem::path npm_area() const {
    return dependency_caches::CacheAreaFor(dependency_caches::Language::npm, dependency_root()).root;
  }
};

RepoCache RepoCacheFor(StepContext& ctx);

/// Resolves a step's `dir` argument: relative paths are relative to the job's workspace.
/// Returns the canonical path, or an empty path with `error` set ("... does not exist").
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
