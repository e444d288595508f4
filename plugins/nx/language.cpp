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

std::vector<dependency_caches::LanguageCacheArea> DependencyCacheAreas(const std::set<Language>& languages,
                                                                      const fs::path& cache_root) {
  using dependency_caches::CacheAreaFor;
  namespace area = dependency_caches;
  std::vector<area::LanguageCacheArea> areas;
  if (languages.count(Language::java)) {
    areas.push_back(CacheAreaFor(area::Language::maven, cache_root));
    areas.push_back(CacheAreaFor(area::Language::gradle, cache_root));
  }
  // An NX workspace is a node workspace whatever its projects are written in.
  areas.push_back(CacheAreaFor(area::Language::npm, cache_root));
  if (languages.count(Language::go)) areas.push_back(CacheAreaFor(area::Language::go, cache_root));
  if (languages.count(Language::dotnet)) areas.push_back(CacheAreaFor(area::Language::nuget, cache_root));
  if (languages.count(Language::python)) areas.push_back(CacheAreaFor(area::Language::pip, cache_root));
  return areas;
}

std::map<std::string, std::string> DependencyCacheEnv(const std::vector<dependency_caches::LanguageCacheArea>& areas,
                                                      const std::map<std::string, std::string>& user_env) {
  std::map<std::string, std::string> env;
  for (const auto& area : areas) {
    for (const auto& [key, value] : area.env) {
      const auto own = user_env.find(key);
      if (own == user_env.end()) {
        env[key] = value;
      } else if (key == "MAVEN_OPTS" && !own->second.empty() && own->second.find("maven.repo.local") == std::string::npos) {
        // The step's other Maven options stay; only a repository setting of its own wins.
        env[key] = own->second + " " + value;
      }
    }
  }
  return env;
}

}  // namespace kiln::nx
