// What moves objects from a remote into a bare mirror: libgit2 in process, or the git CLI
// run through StepContext::run (git.transport). Both fetch exactly the given refspecs into
// the mirror, prune what the remote deleted, never write a credential anywhere on disk
// that outlives the fetch, and sort failures into the kinds the sync step decides on.
//
// Thread safety: a fetcher keeps no state between calls; Fetch may run on several job
// threads at once (each for its own mirror: the caller holds the mirror's lock).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "credentials.hpp"
#include "git_config.hpp"
#include "kiln/step_context.hpp"
#include "repo_url.hpp"

namespace kiln::git {

struct FetchRequest {
  std::filesystem::path mirror;
  RepoUrl url;
  /// "+refs/heads/*:refs/heads/*", or a bare object id to fetch one commit by id.
  std::vector<std::string> refspecs;
  bool prune = true;
  Credential credential;
};

struct FetchOutcome {
  enum class Kind {
    ok,
    network,         // could not reach or talk to the server: try again, or use the cache
    auth_required,   // the server wants a login and none is configured
    auth_refused,    // the login given was refused
    repo_not_found,  // the server answered: no such repository (or no access to it)
    ref_not_found,   // the server answered: no such ref or object
    certificate,     // the server's certificate was rejected
    cancelled,
  };
  Kind kind = Kind::ok;
  /// What went wrong, in the library's or git's words; holds no credential.
  std::string detail;
  std::size_t received_objects = 0;
  std::size_t received_bytes = 0;

  bool ok() const { return kind == Kind::ok; }
};

class RemoteFetcher {
 public:
  virtual ~RemoteFetcher() = default;
  virtual FetchOutcome Fetch(const FetchRequest& request, StepContext& ctx) const = 0;
};

std::unique_ptr<RemoteFetcher> MakeFetcher(Transport transport);

}  // namespace kiln::git
