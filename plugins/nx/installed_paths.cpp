#include "installed_paths.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPackages = 1000;
constexpr int kMaxDepth = 8;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  return text.str();
}

std::string Unquote(std::string value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.pop_back();
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

/// pnpm-workspace.yaml's `packages:` list, read line by line (its usual block form).
std::vector<std::string> PnpmWorkspacePatterns(const fs::path& file) {
  std::vector<std::string> patterns;
  std::istringstream in(ReadText(file));
  std::string line;
  bool in_packages = false;
  while (std::getline(in, line)) {
    if (line.rfind("packages:", 0) == 0) {
      in_packages = true;
      continue;
    }
    if (!in_packages) continue;
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    if (start == 0) break;  // the next top-level key
    if (line[start] != '-') continue;
    patterns.push_back(Unquote(line.substr(line.find_first_not_of(" \t", start + 1) == std::string::npos
                                               ? line.size()
                                               : line.find_first_not_of(" \t", start + 1))));
  }
  return patterns;
}

std::vector<std::string> PackageJsonPatterns(const fs::path& file) {
  const auto doc = nlohmann::json::parse(ReadText(file), nullptr, false);
  std::vector<std::string> patterns;
  if (!doc.is_object()) return patterns;
  auto workspaces = doc.find("workspaces");
  if (workspaces == doc.end()) return patterns;
  const nlohmann::json* list = &*workspaces;
  if (workspaces->is_object()) {
    auto packages = workspaces->find("packages");
    if (packages == workspaces->end()) return patterns;
    list = &*packages;
  }
  if (!list->is_array()) return patterns;
  for (const auto& item : *list) {
    if (item.is_string()) patterns.push_back(item.get<std::string>());
  }
  return patterns;
}

bool Skipped(const std::string& name) { return name.empty() || name[0] == '.' || name == "node_modules"; }

std::vector<std::string> Split(const std::string& pattern) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(pattern);
  while (std::getline(in, part, '/')) {
    if (!part.empty() && part != ".") parts.push_back(part);
  }
  return parts;
}

/// Walks `parts` from `at` (relative `rel` under `root`), adding matching package dirs.
void Match(const fs::path& root, const fs::path& rel, const std::vector<std::string>& parts, std::size_t at, int depth,
           std::set<std::string>* found) {
  if (found->size() >= kMaxPackages || depth > kMaxDepth) return;
  std::error_code ec;
  if (at == parts.size()) {
    if (!rel.empty() && fs::is_regular_file(root / rel / "package.json", ec)) found->insert(rel.generic_string());
    return;
  }
  const std::string& part = parts[at];
  if (part == "..") return;
  if (part == "**") {
    Match(root, rel, parts, at + 1, depth, found);  // zero directories
    for (fs::directory_iterator it(root / rel, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (Skipped(name) || !it->is_directory(ec) || it->is_symlink(ec)) continue;
      Match(root, rel / name, parts, at, depth + 1, found);
    }
    return;
  }
  if (part.find_first_of("*?[") == std::string::npos) {
    if (!Skipped(part) && fs::is_directory(root / rel / part, ec) && !fs::is_symlink(root / rel / part, ec)) {
      Match(root, rel / part, parts, at + 1, depth + 1, found);
    }
    return;
  }
  for (fs::directory_iterator it(root / rel, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (Skipped(name) || !it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (::fnmatch(part.c_str(), name.c_str(), FNM_PERIOD) == 0) Match(root, rel / name, parts, at + 1, depth + 1, found);
  }
}

/// yarn 2+'s nodeLinker from .yarnrc.yml: "pnp" (its default), "node-modules" or "pnpm".
std::string YarnLinker(const fs::path& dir) {
  std::istringstream in(ReadText(dir / ".yarnrc.yml"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("nodeLinker:", 0) == 0) return Unquote(line.substr(line.find_first_not_of(" \t", 11)));
  }
  return "pnp";
}

}  // namespace

std::vector<std::string> WorkspacePackageDirs(const fs::path& dir) {
  std::vector<std::string> patterns = PackageJsonPatterns(dir / "package.json");
  for (auto& pattern : PnpmWorkspacePatterns(dir / "pnpm-workspace.yaml")) patterns.push_back(pattern);
  std::set<std::string> found;
  for (const auto& pattern : patterns) {
    if (pattern.empty() || pattern[0] == '!' || pattern[0] == '/') continue;
    Match(dir, {}, Split(pattern), 0, 0, &found);
  }
  return {found.begin(), found.end()};
}

InstalledPaths InstalledPathsFor(const fs::path& dir, const std::string& manager,
                                 const std::optional<PackageManagerPin>& pin, const fs::path& lockfile) {
  InstalledPaths out;
  std::error_code ec;
  if (!lockfile.empty()) out.key_files.push_back(lockfile.lexically_relative(dir).generic_string());
  for (const char* config : {".yarnrc.yml", "pnpm-workspace.yaml"}) {
    if (fs::is_regular_file(dir / config, ec)) out.key_files.push_back(config);
  }
  const bool yarn_berry = manager == "yarn" && (pin ? pin->version.rfind("1.", 0) != 0 : fs::exists(dir / ".yarnrc.yml", ec));
  out.linker = manager == "pnpm" ? "pnpm" : yarn_berry ? YarnLinker(dir) : "node-modules";
  if (out.linker == "pnp") {
    // Plug'n'Play: no node_modules; the packages' zips (when the repository keeps its own
    // cache rather than the global one), what was unpacked, the resolution map and yarn's
    // install state, which lets the next install skip its work.
    out.paths = {".pnp.cjs", ".pnp.loader.mjs", ".yarn/cache", ".yarn/install-state.gz", ".yarn/unplugged"};
    return out;
  }
  out.paths.push_back("node_modules");
  for (const auto& package : WorkspacePackageDirs(dir)) out.paths.push_back(package + "/node_modules");
  std::sort(out.paths.begin(), out.paths.end());
  return out;
}

}  // namespace kiln::nx
