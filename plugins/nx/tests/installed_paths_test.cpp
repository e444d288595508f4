// What an install leaves, for the default pipeline's keyed cache entry: node_modules of the
// root and of each workspace package (package.json workspaces, pnpm-workspace.yaml), or
// yarn's Plug'n'Play files; and the files the key is made of.
#include "installed_paths.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kiln::nx {
namespace {

namespace fs = std::filesystem;
using kiln::testing::TempDir;
using kiln::testing::WriteFile;
using Paths = std::vector<std::string>;

class InstalledPathsTest : public ::testing::Test {
 protected:
  TempDir dir_{"kiln-nx-paths"};
  fs::path root() const { return dir_.path(); }
  void Package(const std::string& at) { WriteFile(root() / at / "package.json", "{}"); }
};

TEST_F(InstalledPathsTest, WorkspacesOfPackageJsonWithOneAndAnyDepthGlobs) {
  WriteFile(root() / "package.json", R"({ "workspaces": ["apps/*", "libs/**", "tools/cli", "!apps/skip"] })");
  Package("apps/web");
  Package("apps/api");
  fs::create_directories(root() / "apps/no-package");
  Package("libs/ui/button");
  Package("libs/node_modules/dep");  // never inside node_modules
  Package("libs/.hidden");
  Package("tools/cli");
  Package("other/x");
  EXPECT_EQ(WorkspacePackageDirs(root()), (Paths{"apps/api", "apps/web", "libs/ui/button", "tools/cli"}));
}

TEST_F(InstalledPathsTest, YarnObjectFormAndPnpmWorkspaceYaml) {
  WriteFile(root() / "package.json", R"({ "workspaces": { "packages": ["apps/*"] } })");
  WriteFile(root() / "pnpm-workspace.yaml", "packages:\n  - 'libs/*'\n  - \"!libs/old\"\n# comment\nonlyBuiltDependencies:\n  - nx\n");
  Package("apps/web");
  Package("libs/shared");
  Package("nx");
  EXPECT_EQ(WorkspacePackageDirs(root()), (Paths{"apps/web", "libs/shared"}));
}

TEST_F(InstalledPathsTest, NoEscapeThroughDotDotOrLinks) {
  WriteFile(root() / "package.json", R"({ "workspaces": ["../*", "linked/*"] })");
  fs::create_directories(root() / "elsewhere/pkg");
  WriteFile(root() / "elsewhere/pkg/package.json", "{}");
  fs::create_symlink(root() / "elsewhere", root() / "linked");
  EXPECT_TRUE(WorkspacePackageDirs(root()).empty());
}

TEST_F(InstalledPathsTest, NodeModulesForEveryPackageWithKeyFiles) {
  WriteFile(root() / "package.json", R"({ "workspaces": ["libs/*"] })");
  WriteFile(root() / "yarn.lock", "");
  WriteFile(root() / ".yarnrc.yml", "nodeLinker: node-modules\n");
  Package("libs/shared");
  const PackageManagerPin pin{"yarn", "4.15.0", "yarn@4.15.0"};
  const InstalledPaths paths = InstalledPathsFor(root(), "yarn", pin, root() / "yarn.lock");
  EXPECT_EQ(paths.linker, "node-modules");
  EXPECT_EQ(paths.paths, (Paths{"libs/shared/node_modules", "node_modules"}));
  EXPECT_EQ(paths.key_files, (Paths{"yarn.lock", ".yarnrc.yml"}));
}

TEST_F(InstalledPathsTest, PlugAndPlayKeepsItsFilesNotNodeModules) {
  WriteFile(root() / "package.json", R"({ "workspaces": ["libs/*"] })");
  WriteFile(root() / ".yarnrc.yml", "enableTelemetry: false\n");  // no nodeLinker: yarn's default, pnp
  const PackageManagerPin pin{"yarn", "4.15.0", "yarn@4.15.0"};
  const InstalledPaths paths = InstalledPathsFor(root(), "yarn", pin, root() / "yarn.lock");
  EXPECT_EQ(paths.linker, "pnp");
  EXPECT_EQ(paths.paths, (Paths{".pnp.cjs", ".pnp.loader.mjs", ".yarn/cache", ".yarn/install-state.gz", ".yarn/unplugged"}));
}

TEST_F(InstalledPathsTest, YarnOneAndPnpmAndNpm) {
  WriteFile(root() / "package.json", "{}");
  EXPECT_EQ(InstalledPathsFor(root(), "yarn", std::nullopt, {}).linker, "node-modules");  // no .yarnrc.yml: yarn 1
  EXPECT_EQ(InstalledPathsFor(root(), "pnpm", std::nullopt, {}).linker, "pnpm");
  const InstalledPaths npm = InstalledPathsFor(root(), "npm", std::nullopt, root() / "package-lock.json");
  EXPECT_EQ(npm.paths, (Paths{"node_modules"}));
  EXPECT_EQ(npm.key_files, (Paths{"package-lock.json"}));
}

}  // namespace
}  // namespace kiln::nx
