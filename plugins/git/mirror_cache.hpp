// The bare mirrors under the code cache: one per repository, cloned once, then fetched.
//
// Layout: <code_cache_dir>/<RepoUrl::mirror_relative_path()> (e.g. github.com/acme/shop.git)
// with the lock file "<mirror>.kiln-lock" beside it. A mirror holds refs/heads/* and
// refs/tags/* of its remote (pruned), plus whatever commits were fetched by id; its config
// holds no URL with a password and no credential (the remote is never saved).
//
// Thread safety: EnsureCommit may run on many job threads and in many worker processes at
// once for the same repository: it fetches under an exclusive flock, and returns holding a
// shared one, so that nobody re-creates the mirror while the caller reads it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "credentials.hpp"
#include "git_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"
#include "mirror_lock.hpp"
#include "remote_fetcher.hpp"
#include "repo_url.hpp"

namespace kiln::git {

struct MirrorRequest {
  RepoUrl url;
  std::string commit;  // 40 lower-case hex digits
  /// A full ref name to fetch besides the branches and tags (refs/pull/12/head), or empty.
  std::string extra_ref;
  Credential credential;
  FetchPolicy policy = FetchPolicy::always;
};

struct MirrorResult {
  /// Set when the commit could not be had: the step's result.
  std::optional<StepResult> failure;
  std::filesystem::path mirror;
  /// "network" when this call fetched from the remote; "cache" when the commit came from
  /// the mirror without it (fetch policy `missing`, or the remote could not be reached).
  std::string source;
  std::size_t fetched_objects = 0;
  /// Held (shared) on success until the caller is done reading the mirror.
  MirrorLock lock;
};

class MirrorCache {
 public:
  MirrorCache(std::filesystem::path root, const RemoteFetcher& fetcher) : root_(std::move(root)), fetcher_(fetcher) {}

  std::filesystem::path MirrorPath(const RepoUrl& url) const { return root_ / url.mirror_relative_path(); }

  /// Makes sure the mirror of `request.url` holds `request.commit`; see MirrorResult.
  MirrorResult EnsureCommit(const MirrorRequest& request, StepContext& ctx) const;

 private:
  std::filesystem::path root_;
  const RemoteFetcher& fetcher_;
};

/// True when the repository at `repo_path` holds `commit` as a commit object.
bool HasCommit(const std::filesystem::path& repo_path, const std::string& commit);

}  // namespace kiln::git
