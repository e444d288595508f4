#include "language.hpp"

#include <system_error>
#include <vector>

namespace kiln::nx {
namespace fs = std::filesystem;

std::string_view ToString(Language language) {
  switch (language) {
    case Language::java: return "java";
    case Language::dotnet: return "dotnet";
    case Language::go: return "go";
    case Language::python: return "python";
    case Language::node: return "node";
    case Language::unknown: return "unknown";
  }
  return "unknown";
}

namespace {

bool HasExtension(const fs::path& name, std::initializer_list<std::string_view> extensions) {
  const std::string ext = name.extension().string();
  for (auto candidate : extensions) {
    if (ext == candidate) return true;
  }
  return false;
}

/// The language a single file marks, or unknown.
Language MarkerLanguage(const fs::path& file_name) {
  const std::string name = file_name.string();
  if (name == "pom.xml" || name == "build.gradle" || name == "build.gradle.kts" || name == "settings.gradle" ||
      name == "settings.gradle.kts") {
    return Language::java;
  }
  if (HasExtension(file_name, {".csproj", ".fsproj", ".vbproj", ".sln"})) return Language::dotnet;
  if (name == "go.mod" || name == "go.work") return Language::go;
  if (name == "pyproject.toml" || name == "setup.py" || name == "requirements.txt" || name == "Pipfile") {
    return Language::python;
  }
  if (name == "package.json") return Language::node;
  return Language::unknown;
}

// The order of DetectLanguage's "first match wins": node last.
constexpr Language kPriority[] = {Language::java, Language::dotnet, Language::go, Language::python, Language::node};

bool SkippedDirectory(const std::string& name) {
  return name.empty() || name[0] == '.' || name == "node_modules" || name == "dist" || name == "build" ||
         name == "target" || name == "bin" || name == "obj" || name == "vendor" || name == "out" ||
         name == "coverage" || name == "__pycache__";
}

}  // namespace

Language DetectLanguage(const fs::path& root) {
  std::set<Language> found;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    Language language = MarkerLanguage(it->path().filename());
    if (language != Language::unknown) found.insert(language);
  }
  for (Language language : kPriority) {
    if (found.count(language)) return language;
  }
  return Language::unknown;
}

std::set<Language> DetectWorkspaceLanguages(const fs::path& dir, std::size_t max_entries) {
  std::set<Language> found;
  std::size_t seen = 0;
  std::vector<fs::path> pending{dir};
  while (!pending.empty() && seen < max_entries) {
    fs::path current = std::move(pending.back());
    pending.pop_back();
    std::error_code ec;
    for (fs::directory_iterator it(current, ec), end; !ec && it != end && seen < max_entries; it.increment(ec)) {
      ++seen;
      std::error_code type_ec;
      const fs::path name = it->path().filename();
      if (it->is_symlink(type_ec)) continue;  // never leave the workspace, never loop
      if (it->is_directory(type_ec)) {
        if (!SkippedDirectory(name.string())) pending.push_back(it->path());
        continue;
      }
      Language language = MarkerLanguage(name);
      if (language != Language::unknown) found.insert(language);
    }
  }
  return found;
}

std::map<std::string, std::string> DependencyCacheEnv(const std::set<Language>& languages, const fs::path& repo_cache,
                                                      const std::map<std::string, std::string>& user_env) {
  // The areas and the paths inside them are the cache plugin's (plugins/cache,
  // language_caches.cpp), rooted at one repository's directory instead of the whole cache.
  std::map<std::string, std::string> env;
  auto set = [&](const std::string& key, const fs::path& value) {
    if (!user_env.count(key)) env[key] = value.string();
  };
  set("npm_config_cache", repo_cache / "npm" / "npm");
  set("YARN_CACHE_FOLDER", repo_cache / "npm" / "yarn");
  if (languages.count(Language::java)) {
    std::string maven_opts = "-Dmaven.repo.local=" + (repo_cache / "maven" / "repository").string();
    if (auto it = user_env.find("MAVEN_OPTS"); it != user_env.end() && !it->second.empty()) {
      // The step's own repository setting, if it has one, is the one that counts.
      maven_opts = it->second.find("maven.repo.local") != std::string::npos ? it->second
                                                                              : it->second + " " + maven_opts;
    }
    env["MAVEN_OPTS"] = maven_opts;
    set("GRADLE_USER_HOME", repo_cache / "gradle");
  }
  if (languages.count(Language::dotnet)) set("NUGET_PACKAGES", repo_cache / "nuget" / "packages");
  if (languages.count(Language::go)) {
    set("GOMODCACHE", repo_cache / "go" / "mod");
    set("GOCACHE", repo_cache / "go" / "build");
  }
  if (languages.count(Language::python)) set("PIP_CACHE_DIR", repo_cache / "pip");
  return env;
}

}  // namespace kiln::nx
