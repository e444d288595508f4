// Installing an NX workspace's packages with the package manager its lockfile names.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kiln/process.hpp"
#include "kiln/step_result.hpp"
#include "corepack_setup.hpp"
#include "nx_config.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

struct PackageManager {
  std::string name;                  // "npm", "pnpm", "yarn", "bun"
  std::filesystem::path lockfile;    // empty when the workspace has none
  std::vector<std::string> frozen_install;  // argv of the install that honours the lockfile as is
  /// A file the package manager writes into node_modules after an install. node_modules is
  /// taken as in step with the lockfile when the copy of the lockfile kiln leaves there
  /// after its installs (node_modules/.kiln-installed-lockfile) has the same contents, or,
  /// without that copy, when this marker is at least as new as the lockfile.
  std::filesystem::path install_marker;
};

/// The package manager of the workspace at `dir`, by its lockfile: package-lock.json or
/// npm-shrinkwrap.json → npm ci; pnpm-lock.yaml → pnpm; yarn.lock → yarn (--immutable
/// with .yarnrc.yml, else --frozen-lockfile); bun.lock(b) → bun. npm without a lockfile.
PackageManager DetectPackageManager(const std::filesystem::path& dir);

/// With package.json's packageManager pinned: that manager, its own lockfile when the
/// workspace has one, and its frozen install for that version (yarn 1: --frozen-lockfile,
/// yarn 2 and later: --immutable). Without a pin: DetectPackageManager(dir).
PackageManager DetectPackageManager(const std::filesystem::path& dir, const std::optional<PackageManagerPin>& pin);

/// True when the install's output says it failed on the network (npm's ECONNREFUSED,
/// ETIMEDOUT, ENOTFOUND, EAI_AGAIN, ECONNRESET, a 5xx from the registry, ...): worth a retry.
bool LooksLikeNetworkFailure(const std::string& output);

/// Installs the workspace's packages per `mode` with the package manager `setup` chose (its
/// env already in `env`), with the package manager's cache in the repository's npm area
/// (`npm_area`/npm for npm, /yarn and /yarn-berry for yarn, /pnpm-store), `env` on top.
/// Ok (outputs: {"installed": bool, "package_manager": name}), Retryable on network
/// failures, Terminal otherwise (no lockfile with mode ci, out-of-sync lockfile, ...).
StepResult InstallPackages(StepContext& ctx, const std::filesystem::path& dir, InstallMode mode,
                           const std::filesystem::path& npm_area, const std::map<std::string, std::string>& env,
                           const std::vector<SandboxMount>& mounts, const PackageManagerSetup& setup);

/// What nx.build and nx.projects do before NX runs: the package manager package.json pins
/// set up (SetUpPackageManager; its environment added to `*env`, for the install and for
/// NX's tasks, which may call it), then the install (InstallPackages). The first failure,
/// else the install's result.
StepResult SetUpAndInstall(StepContext& ctx, const std::filesystem::path& dir, InstallMode mode,
                           const std::filesystem::path& npm_area, std::map<std::string, std::string>* env,
                           const std::vector<SandboxMount>& mounts);

}  // namespace kiln::nx
