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

/// Creates the area's directories and marks it used now. Empty on success, else what failed.
inline std::string PrepareArea(const LanguageCacheArea& area) {
  std::error_code ec;
  for (const auto& dir : area.dirs) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  }
  const std::filesystem::path marker = area.root / std::string(kLastUsedMarker);
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  ::utimensat(AT_FDCWD, marker.c_str(), nullptr, 0);
  return {};
}

}  // namespace kiln::dependency_caches
