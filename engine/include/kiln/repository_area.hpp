// kiln plugin SDK: one repository's own directory in the build cache.
//
// What a job's processes write and a later job of the same repository reads lives there:
// its dependency areas (`deps/`, laid out as kiln/dependency_caches.hpp says), NX's cache
// (`nx/`), a container build's cache mounts (`buildah/<id>`). A job's processes are the
// repository's code, so nothing they write may feed another repository's build: a package
// manager that trusts its cache (yarn 1 does not check a cached package against the
// lockfile) or a RUN step that reads a cache mount would otherwise run what another
// repository planted there. The price is that each repository downloads once for itself.
//
//   <build cache>/<area name>/deps/npm/...       kiln/dependency_caches.hpp's areas
//   <build cache>/<area name>/nx/...             the NX plugin's
//   <build cache>/<area name>/buildah/<id>       the buildah plugin's cache mounts
//   <build cache>/<area name>/.kiln-last-used    touched on each use; eviction reads it
//
// The cache plugin measures and evicts each area as a whole (cache.stats, cache.gc).
// Header-only, standard library and nlohmann/json only.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "kiln/dependency_caches.hpp"
#include "kiln/repository_scope.hpp"

namespace kiln::repository_area {

/// The area's directory name for the job message `job`: job.repo.name (else its URL without
/// scheme, credentials and ".git") with every character outside [A-Za-z0-9._-] replaced, for
/// people, then "-" and the job's save scope (kiln/repository_scope.hpp), which decides: the
/// repository's normalised URL for a trusted job ("acme-shop-repo-<32 hex>"), that and the
/// ref for an untrusted one ("acme-shop-ref-<32 hex>"), so no other repository and no fork's
/// pull request writes what a trusted build then runs. "local" without a repository.
inline std::string AreaName(const nlohmann::json& job) {
  const repository_scope::JobScopes scopes = repository_scope::ScopesForJob(job);
  if (scopes.repository == repository_scope::kNoRepositoryScope) return scopes.save;
  std::string name;
  const nlohmann::json& repo = job["repo"];
  if (repo.contains("name") && repo["name"].is_string()) name = repo["name"].get<std::string>();
  if (name.empty() && repo.contains("url") && repo["url"].is_string()) {
    name = repository_scope::NormaliseRepositoryUrl(repo["url"].get<std::string>());
    if (const auto scheme = name.find("://"); scheme != std::string::npos) name.erase(0, scheme + 3);
  }
  std::string readable;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    readable += plain ? c : '-';
  }
  if (readable.size() > 80) readable.resize(80);
  if (readable.find_first_not_of('.') == std::string::npos) readable = "repo";  // never "." or ".."
  return readable + "-" + scopes.save;
}

/// True for a name AreaName makes: "local", or anything ending in "-" and a scope name.
inline bool IsAreaName(std::string_view name) {
  if (name == repository_scope::kNoRepositoryScope) return true;
  for (std::string_view kind : {"-repo-", "-ref-"}) {
    const auto at = name.rfind(kind);
    if (at != std::string_view::npos && at > 0 && repository_scope::IsScopeName(name.substr(at + 1))) return true;
  }
  return false;
}

/// `build_cache`/AreaName(job).
inline std::filesystem::path AreaRoot(const std::filesystem::path& build_cache, const nlohmann::json& job) {
  return build_cache / AreaName(job);
}

/// Where the area's dependency caches go: pass it as `cache_root` to
/// dependency_caches::CacheAreaFor.
inline std::filesystem::path DependencyRoot(const std::filesystem::path& area_root) { return area_root / "deps"; }

/// Creates the area and marks it used now (dependency_caches::kLastUsedMarker in its root),
/// so eviction leaves it alone while a build may be using it. Empty on success, else what
/// failed. Safe to race with itself.
inline std::string MarkUsed(const std::filesystem::path& area_root) {
  std::error_code ec;
  std::filesystem::create_directories(area_root, ec);
  if (ec) return "cannot create " + area_root.string() + ": " + ec.message();
  const std::filesystem::path marker = area_root / std::string(dependency_caches::kLastUsedMarker);
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd >= 0) ::close(fd);
  ::utimensat(AT_FDCWD, marker.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
  return {};
}

}  // namespace kiln::repository_area
