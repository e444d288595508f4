// A repository URL as the git plugin understands it, and what the plugin derives from it.
//
// Accepted forms: scheme://[user[:password]@]host[:port]/path for https, http, ssh, git and
// file; scp-like [user@]host:path (ssh); an absolute local path (file). Anything else, a
// path with '.' or '..' components, control characters or spaces, or a leading '-' (which
// the git CLI would read as an option) is malformed.
//
// A value type, no I/O; safe to use from any thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::git {

struct RepoUrl {
  std::string scheme;    // "https", "http", "ssh", "git" or "file"
  std::string user;      // may be empty
  std::string password;  // may be empty; never written anywhere, only used to log in
  std::string host;      // lower case; empty for file
  int port = 0;          // 0 when not given
  std::string path;      // starts with '/' (scp-like paths are stored with a leading '/')
  bool scp_like = false;

  /// Parses `text`; on failure returns nullopt and says why in `error` (without the
  /// password, which it never repeats).
  static std::optional<RepoUrl> Parse(std::string_view text, std::string* error);

  /// The URL without a password: what the plugin passes to git, logs and writes.
  std::string clean() const;
  /// "host" or "host:port": the key of the `git.credentials` config map.
  std::string host_key() const;
  bool is_local() const { return scheme == "file"; }
  bool is_http() const { return scheme == "https" || scheme == "http"; }

  /// Where this repository's mirror lives below the code cache, e.g.
  /// "github.com/acme/shop.git": one component for the host (and port), then the path's
  /// components made safe ([A-Za-z0-9._-], no leading '.'); when making them safe changed
  /// anything, a short hash of the original path keeps two repositories apart.
  std::filesystem::path mirror_relative_path() const;
};

/// Resolves a submodule URL from .gitmodules: absolute URLs as they are, "./x" and "../x"
/// against the superproject's URL (as git does). nullopt with `error` when malformed.
std::optional<RepoUrl> ResolveSubmoduleUrl(const RepoUrl& super, std::string_view url, std::string* error);

}  // namespace kiln::git
