// The `git:` section of the configuration.
//
//   git:
//     transport: libgit2        # libgit2 | cli: what talks to the remote (default: libgit2,
//                               #   from docs/benchmarks/git.md)
//     fetch: always             # always | missing: fetch on every sync, or only when the
//                               #   mirror lacks the commit (default: always)
//     credentials:              # host or host:port -> name of a secret (see `secrets:`)
//       github.com: github_token
//       git.internal:8443: ci_basic
//     submodule_credentials:    # submodules fetched with the job's credentials (default:
//       - https://github.com/acme/lib.git  # none: each is fetched anonymously); repository
//       - git.internal:8443     #   URLs or hosts, see submodule_credentials.hpp
//
// A value type, parsed once by Plugin::configure and read by every job thread.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "submodule_credentials.hpp"

namespace kiln::git {

enum class Transport { libgit2, cli };
enum class FetchPolicy { always, missing };

struct GitConfig {
  Transport transport = Transport::libgit2;
  FetchPolicy fetch = FetchPolicy::always;
  /// Lower-case "host" or "host:port" -> secret name.
  std::map<std::string, std::string> credentials;
  /// Which submodules may use those credentials (the superproject always does).
  SubmoduleCredentialTargets submodule_credentials;

  /// Parses the section (null or {} gives the defaults). On a bad key returns nullopt and
  /// an error naming it ("git.transport: must be 'libgit2' or 'cli', got 'x'").
  static std::optional<GitConfig> Parse(const nlohmann::json& section, std::string* error);

  /// The secret name configured for `host_key` ("host:port"), falling back to the host alone.
  std::optional<std::string> credentials_for(const std::string& host_key) const;
};

}  // namespace kiln::git
