// What a workspace's install leaves behind, for the pipeline to keep in the cache plugin's
// keyed store: node_modules (the root's and each workspace package's) or, with yarn's
// Plug'n'Play, .pnp.cjs and .yarn/cache; and the files that decide it (lockfile, config).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "package_manager_pin.hpp"

namespace kiln::nx {

struct InstalledPaths {
  std::string linker;                   // "node-modules", "pnp" (yarn) or "pnpm" (pnpm's layout)
  std::vector<std::string> paths;       // relative to the workspace, sorted
  std::vector<std::string> key_files;   // relative: the lockfile and the install's config files
};

/// The workspace packages' directories (relative), from package.json's `workspaces` (a list,
/// or `{ packages = [...] }`) and pnpm-workspace.yaml's `packages`: globs of `*` within one
/// directory and `**` for any depth, `!` patterns left out; only directories holding a
/// package.json, never inside node_modules or hidden directories. At most 1000.
std::vector<std::string> WorkspacePackageDirs(const std::filesystem::path& dir);

/// The paths for `manager` ("npm", "yarn", "pnpm", "bun") at the workspace `dir`.
InstalledPaths InstalledPathsFor(const std::filesystem::path& dir, const std::string& manager,
                                 const std::optional<PackageManagerPin>& pin, const std::filesystem::path& lockfile);

}  // namespace kiln::nx
