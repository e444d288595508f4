// `git.submodule_credentials`: the submodules that may be fetched with the job's credentials.
//
// The job's credentials (the step's `credentials`, `git.credentials`) are for the
// superproject's URL. A repository's .gitmodules is written by whoever can push to it, so a
// submodule that got them could pull another private repository of the same host into the
// workspace, and from there into an image. A submodule is fetched with credentials only
// when this list names its host ("git.corp", any port), its "host:port", or its repository
// URL (compared by host, port and path, without a trailing ".git" or "/", over any
// transport); every other submodule is fetched anonymously.
//
// A value type, no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo_url.hpp"

namespace kiln::git {

struct SubmoduleCredentialTargets {
  std::vector<std::string> hosts;  // lower case, "host" or "host:port"
  std::vector<RepoUrl> repositories;

  /// Parses the list (null gives an empty one). On a bad entry returns nullopt and an error
  /// naming it ("git.submodule_credentials[1]: ...").
  static std::optional<SubmoduleCredentialTargets> Parse(const nlohmann::json& value, std::string* error);

  bool Allows(const RepoUrl& url) const;
};

}  // namespace kiln::git
