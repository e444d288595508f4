#include "language.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "install.hpp"

#include "support/temp_dir.hpp"
#include "workspace.hpp"

namespace kiln::nx {
namespace {

using kiln::testing::TempDir;
using kiln::testing::WriteFile;

TEST(Language, DetectedFromMarkerFilesNodeLast) {
  TempDir dir("kiln-nx-lang");
  WriteFile(dir / "java/pom.xml", "");
  WriteFile(dir / "java/package.json", "{}");
  WriteFile(dir / "gradle/build.gradle.kts", "");
  WriteFile(dir / "dotnet/App.csproj", "");
  WriteFile(dir / "sln/All.sln", "");
  WriteFile(dir / "go/go.mod", "module x\n");
  WriteFile(dir / "py/pyproject.toml", "");
  WriteFile(dir / "node/package.json", "{}");
  WriteFile(dir / "none/project.json", "{}");
  EXPECT_EQ(DetectLanguage(dir / "java"), Language::java);
  EXPECT_EQ(DetectLanguage(dir / "gradle"), Language::java);
  EXPECT_EQ(DetectLanguage(dir / "dotnet"), Language::dotnet);
  EXPECT_EQ(DetectLanguage(dir / "sln"), Language::dotnet);
  EXPECT_EQ(DetectLanguage(dir / "go"), Language::go);
  EXPECT_EQ(DetectLanguage(dir / "py"), Language::python);
  EXPECT_EQ(DetectLanguage(dir / "node"), Language::node);
  EXPECT_EQ(DetectLanguage(dir / "none"), Language::unknown);
  EXPECT_EQ(DetectLanguage(dir / "missing"), Language::unknown);
}

TEST(Language, WorkspaceScanSkipsNodeModulesAndBuildOutput) {
  TempDir dir("kiln-nx-lang");
  WriteFile(dir / "apps/api/go.mod", "");
  WriteFile(dir / "node_modules/some/pom.xml", "");
  WriteFile(dir / "dist/x/App.csproj", "");
  WriteFile(dir / ".git/pyproject.toml", "");
  WriteFile(dir / "package.json", "{}");
  EXPECT_EQ(DetectWorkspaceLanguages(dir.path()), (std::set<Language>{Language::go, Language::node}));
}

TEST(Language, CacheEnvPointsIntoTheSharedDependencyAreas) {
  const auto env =
      DependencyCacheEnv(DependencyCacheAreas({Language::java, Language::go, Language::dotnet, Language::python}, "/c"));
  EXPECT_EQ(env.at("npm_config_cache"), "/c/npm/npm");
  EXPECT_EQ(env.at("YARN_CACHE_FOLDER"), "/c/npm/yarn");
  EXPECT_EQ(env.at("MAVEN_OPTS"), "-Dmaven.repo.local=/c/maven/repository");
  EXPECT_EQ(env.at("GRADLE_USER_HOME"), "/c/gradle");
  EXPECT_EQ(env.at("GOMODCACHE"), "/c/go/mod");
  EXPECT_EQ(env.at("GOCACHE"), "/c/go/build");
  EXPECT_EQ(env.at("NUGET_PACKAGES"), "/c/nuget/packages");
  EXPECT_EQ(env.at("PIP_CACHE_DIR"), "/c/pip");
  const auto node_only = DependencyCacheEnv(DependencyCacheAreas({Language::node}, "/c"));
  EXPECT_EQ(node_only.size(), 2u);  // npm and yarn's caches only
}

TEST(Language, TheAreasAreTheCachePluginsOnes) {
  // The cache plugin counts and evicts exactly these directories (kiln/dependency_caches.hpp).
  const auto areas = DependencyCacheAreas({Language::java, Language::go}, "/c");
  std::set<std::string> roots;
  for (const auto& area : areas) roots.insert(area.root.string());
  EXPECT_EQ(roots, (std::set<std::string>{"/c/maven", "/c/gradle", "/c/npm", "/c/go"}));
}

TEST(Language, StepEnvWinsAndMavenOptsAreKept) {
  const auto areas = DependencyCacheAreas({Language::java, Language::go}, "/c");
  const auto env = DependencyCacheEnv(areas, {{"GOCACHE", "/mine"}, {"MAVEN_OPTS", "-Xmx1g"}});
  EXPECT_EQ(env.count("GOCACHE"), 0u);  // the step's own value stays
  EXPECT_EQ(env.at("MAVEN_OPTS"), "-Xmx1g -Dmaven.repo.local=/c/maven/repository");
  const auto own_repository = DependencyCacheEnv(areas, {{"MAVEN_OPTS", "-Dmaven.repo.local=/r"}});
  EXPECT_EQ(own_repository.count("MAVEN_OPTS"), 0u);
}

TEST(PackageManager, FromTheLockfile) {
  TempDir dir("kiln-nx-pm");
  EXPECT_EQ(DetectPackageManager(dir.path()).frozen_install,
            (std::vector<std::string>{"npm", "install", "--no-audit", "--no-fund"}));
  EXPECT_TRUE(DetectPackageManager(dir.path()).lockfile.empty());
  WriteFile(dir / "yarn.lock", "");
  EXPECT_EQ(DetectPackageManager(dir.path()).name, "yarn");
  WriteFile(dir / "pnpm-lock.yaml", "");
  EXPECT_EQ(DetectPackageManager(dir.path()).name, "pnpm");
  WriteFile(dir / "package-lock.json", "{}");
  EXPECT_EQ(DetectPackageManager(dir.path()).frozen_install[1], "ci");
}

TEST(PackageManager, NetworkFailuresAreToldApart) {
  EXPECT_TRUE(LooksLikeNetworkFailure("npm error code ECONNREFUSED\nnpm error syscall connect"));
  EXPECT_TRUE(LooksLikeNetworkFailure("npm error code E503\nnpm error 503 Service Unavailable"));
  EXPECT_TRUE(LooksLikeNetworkFailure("npm error code EAI_AGAIN"));
  EXPECT_FALSE(LooksLikeNetworkFailure("npm error code EUSAGE\nnpm error `npm ci` can only install packages when "
                                       "your package.json and package-lock.json are in sync"));
  EXPECT_FALSE(LooksLikeNetworkFailure("npm error code E404\nnpm error 404 Not Found - GET x"));
}

}  // namespace
}  // namespace kiln::nx
