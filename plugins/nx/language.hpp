// Which language a project is written in, told from the files at its root, and where each
// language's dependency cache lives for a repository.
//
// The cache directories use the cache plugin's area names (maven, gradle, npm, go, nuget,
// pip) and the paths inside them, under one repository's directory of the build cache, so
// a dependency downloaded by one job is there for the next job of the same repository.
// Pure functions over the file system; safe from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>

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

/// The environment that points the dependency caches of `languages` into the areas of
/// `repo_cache` (the cache plugin's area names and inner paths): MAVEN_OPTS
/// (-Dmaven.repo.local=maven/repository) and GRADLE_USER_HOME (gradle) for java,
/// NUGET_PACKAGES (nuget/packages) for dotnet, GOMODCACHE and GOCACHE (go/mod, go/build)
/// for go, PIP_CACHE_DIR (pip) for python, and always npm_config_cache (npm/npm) and
/// YARN_CACHE_FOLDER (npm/yarn): an NX workspace is a node workspace.
/// `user_env` is the step's own env: a variable it sets wins, and MAVEN_OPTS is appended to.
std::map<std::string, std::string> DependencyCacheEnv(const std::set<Language>& languages,
                                                      const std::filesystem::path& repo_cache,
                                                      const std::map<std::string, std::string>& user_env = {});

}  // namespace kiln::nx
