// Which language a project is written in, told from the files at its root, and which
// dependency cache areas a workspace's build uses.
//
// The areas are the SDK's (kiln/dependency_caches.hpp), shared by every repository and with
// the cache plugin, which measures and evicts them: a dependency one job downloaded is there
// for the next job, of any repository. Pure functions over the file system; safe from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/dependency_caches.hpp"

namespace kiln::nx {

enum class Language { java, dotnet, go, python, node, unknown };

std::string_view ToString(Language language);

/// The language of the project rooted at `root`, by its marker files, first match wins:
/// pom.xml / build.gradle(.kts) / settings.gradle(.kts) → java; *.csproj / *.fsproj /
/// *.vbproj / *.sln → dotnet; go.mod / go.work → go; pyproject.toml / setup.py /
/// requirements.txt / Pipfile → python; package.json → node; else unknown (the cache
/// plugin's markers).
/// package.json comes last because NX puts one beside many projects of other languages.
Language DetectLanguage(const std::filesystem::path& root);

/// Every language whose marker file appears somewhere in the workspace at `dir`, without
/// descending into node_modules, dist, build output or hidden directories, and stopping
/// after `max_entries` directory entries so a huge repository costs a bounded time.
/// Used before NX has computed its project graph, to know which caches a build needs.
std::set<Language> DetectWorkspaceLanguages(const std::filesystem::path& dir, std::size_t max_entries = 20000);

/// The areas under `cache_root` (the build cache) that a build of a workspace using
/// `languages` needs: maven and gradle for java, nuget for dotnet, go, pip for python, and
/// always npm: an NX workspace is a node workspace.
std::vector<dependency_caches::LanguageCacheArea> DependencyCacheAreas(const std::set<Language>& languages,
                                                                      const std::filesystem::path& cache_root);

/// The environment that points the package managers at `areas` (MAVEN_OPTS, GRADLE_USER_HOME,
/// npm_config_cache, YARN_CACHE_FOLDER, GOMODCACHE, GOCACHE, NUGET_PACKAGES, PIP_CACHE_DIR).
/// `user_env` is the step's own env: a variable it sets wins, except that other MAVEN_OPTS
/// are kept and the repository is appended to them.
std::map<std::string, std::string> DependencyCacheEnv(const std::vector<dependency_caches::LanguageCacheArea>& areas,
                                                      const std::map<std::string, std::string>& user_env = {});

}  // namespace kiln::nx
