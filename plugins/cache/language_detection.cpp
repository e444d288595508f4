#include "language_detection.hpp"

#include <algorithm>
#include <array>
#include <system_error>

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

bool HasFile(const fs::path& dir, std::string_view name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

bool IsDotnetProject(const fs::path& file) {
  const std::string ext = file.extension().string();
  return ext == ".sln" || ext == ".csproj" || ext == ".fsproj" || ext == ".vbproj";
}

// .NET solutions often keep the .sln at the top and the projects one level down
// (src/App/App.csproj is two levels, but src/App.sln or App/App.csproj is common enough).
bool HasDotnetProject(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return false;
  for (const auto& entry : it) {
    std::error_code entry_ec;
    if (entry.is_regular_file(entry_ec) && IsDotnetProject(entry.path())) return true;
    if (!entry.is_directory(entry_ec) || entry.is_symlink(entry_ec)) continue;
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || name == "node_modules" || name == "bin" || name == "obj") {
      continue;
    }
    std::error_code sub_ec;
    fs::directory_iterator sub(entry.path(), sub_ec);
    if (sub_ec) continue;
    for (const auto& child : sub) {
      std::error_code child_ec;
      if (child.is_regular_file(child_ec) && IsDotnetProject(child.path())) return true;
    }
  }
  return false;
}

bool Detected(Language language, const fs::path& dir) {
  switch (language) {
    case Language::maven: return HasFile(dir, "pom.xml");
    case Language::gradle:
      return HasFile(dir, "build.gradle") || HasFile(dir, "build.gradle.kts") ||
             HasFile(dir, "settings.gradle") || HasFile(dir, "settings.gradle.kts");
    case Language::npm: return HasFile(dir, "package.json");
    case Language::go: return HasFile(dir, "go.mod") || HasFile(dir, "go.work");
    case Language::nuget: return HasDotnetProject(dir);
    case Language::pip:
      return HasFile(dir, "pyproject.toml") || HasFile(dir, "requirements.txt") ||
             HasFile(dir, "setup.py") || HasFile(dir, "Pipfile");
  }
  return false;
}

}  // namespace

std::vector<Language> DetectLanguages(const fs::path& dir) {
  std::vector<Language> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (Language language : AllLanguages()) {
    if (Detected(language, dir)) found.push_back(language);
  }
  return found;
}

}  // namespace kiln::cache
