// Dependency cache areas per language: which languages a source tree uses, and where each
// one's package manager keeps its downloads under a shared build cache root.
//
// Written to depend on the C++ standard library only (no kiln engine, no JSON), so that it
// can move into the plugin SDK as a header-only helper once the nx and buildah plugins
// want the same paths (a plugin must not include another plugin's code).
//
// Thread safety: the functions are pure apart from reading the file system; safe to call
// from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::cache {

/// The package ecosystems with a cache area of their own. The area's directory name under
/// the build cache root is the enum's name (LanguageName).
enum class Language { maven, gradle, npm, go, nuget, pip };

/// Every language, in the order areas are listed (stats, paths output).
const std::vector<Language>& AllLanguages();
std::string_view LanguageName(Language language);
/// The language named `name` ("go", "npm", ...); false when there is none.
bool ParseLanguage(std::string_view name, Language* language);

/// The languages whose marker files are in `dir`: pom.xml (maven); build.gradle[.kts] or
/// settings.gradle[.kts] (gradle); *.sln, *.csproj, *.fsproj, *.vbproj, at the top or one
/// directory down (nuget); go.mod or go.work (go); package.json (npm); pyproject.toml,
/// requirements.txt, setup.py, Pipfile (pip). In AllLanguages() order, without repeats.
/// A directory that cannot be read gives no languages.
std::vector<Language> DetectLanguages(const std::filesystem::path& dir);

/// Where one language's package manager keeps its cache under `cache_root`, and the
/// environment that points it there.
struct LanguageCacheArea {
  Language language;
  /// `cache_root`/<name>: the area, removed as a whole by eviction.
  std::filesystem::path root;
  /// The directories the environment names (inside `root`), to create before a build.
  std::vector<std::filesystem::path> dirs;
  /// GOMODCACHE, npm_config_cache, MAVEN_OPTS, ... (values are absolute paths).
  std::map<std::string, std::string> env;
};

LanguageCacheArea CacheAreaFor(Language language, const std::filesystem::path& cache_root);

/// The name of the file in an area's root whose modification time is the area's last use
/// (touched when a build asks for the area; read by eviction).
inline constexpr std::string_view kLastUsedMarker = ".kiln-last-used";

}  // namespace kiln::cache
