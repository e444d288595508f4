// The login a fetch presents, and where it comes from.
//
// Order: the step's `credentials` argument (a secret name), then a password in the URL
// itself, then `git.credentials` for the URL's host. A secret's value is read as:
//   https/http: "user:password" (basic), or a bare token (user from the URL, else
//               "x-access-token", which GitHub, Gitea and GitLab accept with a token);
//   ssh:        a private key in OpenSSH or PEM form, or the absolute path of a key file.
// Every part of the value is registered for redaction before it is used.
#pragma once

#include <optional>
#include <string>

#include "git_config.hpp"
#include "kiln/step_context.hpp"
#include "repo_url.hpp"

namespace kiln::git {

struct Credential {
  enum class Kind { none, userpass, ssh_key_memory, ssh_key_file };
  Kind kind = Kind::none;
  std::string username;
  std::string password;  // userpass
  std::string key;       // ssh private key text, or the key file's path
  /// Where it came from, for messages: "secret 'github_token'", "the URL". Never the value.
  std::string origin;
};

/// Resolves the credential for `url`. `secret_name` is the step's `credentials`
/// argument (empty when absent); an explicit name that is not configured is an error
/// (nullopt, `error` says which name), not a silent anonymous fetch.
std::optional<Credential> ResolveCredential(const RepoUrl& url, const std::string& secret_name,
                                            const GitConfig& config, StepContext& ctx, std::string* error);

/// Only the login `url` carries itself (user:password@), else none: what a submodule gets
/// that git.submodule_credentials does not name. The password is registered for redaction.
Credential CredentialInUrl(const RepoUrl& url, StepContext& ctx);

}  // namespace kiln::git
