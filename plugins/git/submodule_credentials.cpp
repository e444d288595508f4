#include "submodule_credentials.hpp"

#include "ascii_lower.hpp"

#include <algorithm>
#include <cctype>

namespace kiln::git {
namespace {

constexpr const char* kKey = "git.submodule_credentials";

// "/acme/lib.git/" and "/acme/lib" name one repository.
std::string RepositoryPath(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".git") == 0) path.resize(path.size() - 4);
  return path;
}

// Checked by parsing a URL made of it, so a host entry means what it would in a URL.
bool ValidHostEntry(const std::string& entry) {
  std::string ignored;
  auto url = RepoUrl::Parse("https://" + entry + "/x", &ignored);
  return url && url->user.empty() && url->host_key() == entry;
}

}  // namespace

std::optional<SubmoduleCredentialTargets> SubmoduleCredentialTargets::Parse(const nlohmann::json& value,
                                                                            std::string* error) {
  SubmoduleCredentialTargets targets;
  if (value.is_null()) return targets;
  if (!value.is_array()) {
    *error = std::string(kKey) + ": must be a list of repository URLs or hosts, got a " + value.type_name();
    return std::nullopt;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string where = std::string(kKey) + "[" + std::to_string(i) + "]";
    const auto& item = value[i];
    if (!item.is_string() || item.get<std::string>().empty()) {
      *error = where + ": must be a repository URL or a host, got " +
               (item.is_string() ? std::string("an empty string") : std::string("a ") + item.type_name());
      return std::nullopt;
    }
    const std::string entry = item.get<std::string>();
    if (entry.find('/') == std::string::npos) {
      if (!ValidHostEntry(AsciiLower(entry))) {
        *error = where + ": '" + entry + "' is neither a host, a host:port nor a repository URL";
        return std::nullopt;
      }
      targets.hosts.push_back(AsciiLower(entry));
      continue;
    }
    std::string why;
    auto url = RepoUrl::Parse(entry, &why);
    if (!url) {
      *error = where + ": malformed URL: " + why;
      return std::nullopt;
    }
    if (!url->password.empty()) {
      *error = where + ": must not hold a password (name the secret in git.credentials)";
      return std::nullopt;
    }
    if (url->is_local()) {
      *error = where + ": a local path needs no credentials; name a remote repository or host";
      return std::nullopt;
    }
    targets.repositories.push_back(std::move(*url));
  }
  return targets;
}

bool SubmoduleCredentialTargets::Allows(const RepoUrl& url) const {
  if (url.is_local()) return false;
  const std::string host_key = url.host_key();
  for (const auto& host : hosts) {
    if (host == host_key || host == url.host) return true;
  }
  const std::string path = RepositoryPath(url.path);
  return std::any_of(repositories.begin(), repositories.end(), [&](const RepoUrl& allowed) {
    return allowed.host_key() == host_key && RepositoryPath(allowed.path) == path;
  });
}

}  // namespace kiln::git
