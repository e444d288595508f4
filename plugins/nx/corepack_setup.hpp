// The package manager a workspace builds with, through Node's Corepack: the version
// package.json's `packageManager` pins, fetched from the registry npm is configured with and
// kept in the repository's npm area (COREPACK_HOME), so that its next job downloads nothing.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/process.hpp"
#include "kiln/step_result.hpp"
#include "package_manager_pin.hpp"

namespace kiln {
class StepContext;
}

namespace kiln::nx {

struct PackageManagerSetup {
  std::optional<PackageManagerPin> pin;  // package.json's packageManager, when it has one
  bool via_corepack = false;             // yarn, pnpm, or a pinned npm: run through Corepack's shims
  bool downloaded = false;               // this job fetched the pinned version
  /// For the install and for NX and its tasks: PATH with Corepack's shims first, COREPACK_*.
  std::map<std::string, std::string> env;
};

/// <npm area>/corepack: COREPACK_HOME, with the shims in its bin/.
std::filesystem::path CorepackHome(const std::filesystem::path& npm_area);

/// Sets up the package manager of the workspace at `dir`, whose lockfile's manager is
/// `lockfile_manager` ("npm", "yarn", "pnpm", "bun"). With a pin, or for yarn and pnpm (which
/// only Corepack provides here): Corepack's shims in COREPACK_HOME/bin, and with a pin
/// `corepack install` (outbound network, in the job sandbox with `mounts`) unless
/// COREPACK_HOME holds that version already. `env` is the step's environment: a
/// COREPACK_NPM_REGISTRY there wins over npm's registry.
/// Ok, or Terminal when the pin is malformed or its version cannot be had (naming it, and
/// the registry), Retryable when the registry could not be reached.
StepResult SetUpPackageManager(StepContext& ctx, const std::filesystem::path& dir, const std::string& lockfile_manager,
                               const std::filesystem::path& npm_area, const std::map<std::string, std::string>& env,
                               const std::vector<SandboxMount>& mounts, PackageManagerSetup* setup);

}  // namespace kiln::nx
