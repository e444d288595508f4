// kiln plugin SDK: where each language's package manager keeps its downloads under
// `build.build_cache_path`, one area per language.
//
// A contract between plugins, which must not include each other's code: the cache plugin
// measures and evicts these areas (cache.stats, cache.gc) and hands them to pipelines
// (cache.paths); the NX plugin points its builds at them; the buildah plugin mounts them
// into RUN steps. One definition here keeps the three on the same directories.
//
// Header-only, standard library only. Thread safety: pure functions, plus PrepareArea,
// which only creates directories and touches a file (safe to race with itself).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kiln::dependency_caches {

/// The package ecosystems with an area of their own. The area's directory under the build
/// cache root is LanguageName().
enum class Language { maven, gradle, npm, go, nuget, pip };

/// Every language, in the order areas are listed.
inline const std::vector<Language>& AllLanguages() {
  static const std::vector<Language> all = {Language::maven, Language::gradle, Language::npm,
                                            Language::go,    Language::nuget,  Language::pip};
  return all;
}

inline std::string_view LanguageName(Language language) {
  switch (language) {
    case Language::maven: return "maven";
    case Language::gradle: return "gradle";
    case Language::npm: return "npm";
    case Language::go: return "go";
    case Language::nuget: return "nuget";
    case Language::pip: return "pip";
  }
  return "unknown";
}

/// The language named `name` ("go", "npm", ...); false when there is none.
inline bool ParseLanguage(std::string_view name, Language* language) {
  for (Language candidate : AllLanguages()) {
    if (LanguageName(candidate) == name) {
      *language = candidate;
      return true;
    }
  }
  return false;
}

/// The file in an area's root whose modification time is the area's last use: touched
/// whenever a build is pointed at the area, read by eviction.
inline constexpr std::string_view kLastUsedMarker = ".kiln-last-used";

struct LanguageCacheArea {
  Language language;
  /// `cache_root`/<name>: the area, evicted as a whole.
  std::filesystem::path root;
  /// The directories the environment names, inside `root`; the first is the package
  /// manager's main cache (what a container build mounts).
  std::vector<std::filesystem::path> dirs;
  /// GOMODCACHE, npm_config_cache, MAVEN_OPTS, ... (values are absolute paths).
  std::map<std::string, std::string> env;
};

inline LanguageCacheArea CacheAreaFor(Language language, const std::filesystem::path& cache_root) {
  LanguageCacheArea area{language, cache_root / std::string(LanguageName(language)), {}, {}};
  const std::filesystem::path& r = area.root;
  auto name = [&area](const char* variable, const std::filesystem::path& dir) {
    area.dirs.push_back(dir);
    area.env[variable] = dir.string();
  };
  switch (language) {
    case Language::maven:
      area.dirs.push_back(r / "repository");
      area.env["MAVEN_OPTS"] = "-Dmaven.repo.local=" + (r / "repository").string();
      break;
    case Language::gradle: name("GRADLE_USER_HOME", r); break;
    case Language::npm:
      name("npm_config_cache", r / "npm");
      name("YARN_CACHE_FOLDER", r / "yarn");
      break;
    case Language::go:
      name("GOMODCACHE", r / "mod");
      name("GOCACHE", r / "build");
      break;
    case Language::nuget: name("NUGET_PACKAGES", r / "packages"); break;
    case Language::pip: name("PIP_CACHE_DIR", r); break;
  }
  return area;
}

namespace detail {

// Opens (creating where missing) each directory of `relative` below the open directory
// `base_fd`, never following a symlink: the areas are written by a job's sandboxed
// processes, which may leave `npm -> /etc` behind for the worker to create directories
// through. Returns the last directory's descriptor (the caller closes it), or -1 with
// `*error` naming the component.
inline int OpenDirectoriesBelow(int base_fd, const std::filesystem::path& relative, const std::filesystem::path& shown,
                                std::string* error) {
  int dir = ::fcntl(base_fd, F_DUPFD_CLOEXEC, 0);
  std::filesystem::path walked = shown;
  for (const auto& part : relative) {
    const std::string name = part.string();
    if (name.empty() || name == "." || name == "..") continue;
    walked /= part;
    if (::mkdirat(dir, name.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "cannot create " + walked.string() + ": " + std::strerror(errno);
      ::close(dir);
      return -1;
    }
    const int next = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int saved = errno;
    ::close(dir);
    if (next < 0) {
      *error = walked.string() + (saved == ELOOP || saved == ENOTDIR ? std::string(" is not a directory (a symlink?)")
                                                                     : ": " + std::string(std::strerror(saved)));
      return -1;
    }
    dir = next;
  }
  return dir;
}

}  // namespace detail

/// Creates the area's directories and marks it used now. Nothing below the directory that
/// holds the area is followed if it is a symlink (a job's processes write the areas): such
/// a link is an error naming it. Empty on success, else what failed.
inline std::string PrepareArea(const LanguageCacheArea& area) {
  const std::filesystem::path holder = area.root.parent_path();
  std::error_code ec;
  std::filesystem::create_directories(holder, ec);
  if (ec) return "cannot create " + holder.string() + ": " + ec.message();
  const int holder_fd = ::open(holder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (holder_fd < 0) return "cannot open " + holder.string() + ": " + std::strerror(errno);
  std::string error;
  for (const auto& dir : area.dirs) {
    const int fd = detail::OpenDirectoriesBelow(holder_fd, dir.lexically_relative(holder), holder, &error);
    if (fd < 0) break;
    ::close(fd);
  }
  if (error.empty()) {
    const int root_fd = detail::OpenDirectoriesBelow(holder_fd, area.root.filename(), holder, &error);
    if (root_fd >= 0) {
      const int marker =
          ::openat(root_fd, std::string(kLastUsedMarker).c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (marker >= 0) {
        ::futimens(marker, nullptr);
        ::close(marker);
      }
      ::close(root_fd);
    }
  }
  ::close(holder_fd);
  return error;
}

}  // namespace kiln::dependency_caches
