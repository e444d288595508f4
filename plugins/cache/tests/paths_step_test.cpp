#include <gtest/gtest.h>

#include <filesystem>

#include "cache_plugin_fixture.hpp"
#include "kiln/repository_area.hpp"
#include "language_detection.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::WriteFile;
namespace fs = std::filesystem;

struct Marker {
  const char* file;
  const char* language;
};

class PathsDetectionTest : public ::testing::TestWithParam<Marker> {};

TEST_P(PathsDetectionTest, DetectsTheLanguageOfItsMarkerFile) {
  kiln::testing::TempDir dir("kiln-cache-detect");
  WriteFile(dir.path() / GetParam().file, "x");
  const auto found = DetectLanguages(dir.path());
  ASSERT_EQ(found.size(), 1u) << GetParam().file;
  EXPECT_EQ(LanguageName(found[0]), GetParam().language);
}

INSTANTIATE_TEST_SUITE_P(
    Markers, PathsDetectionTest,
    ::testing::Values(Marker{"pom.xml", "maven"}, Marker{"build.gradle", "gradle"},
                      Marker{"settings.gradle.kts", "gradle"}, Marker{"package.json", "npm"},
                      Marker{"go.mod", "go"}, Marker{"go.work", "go"}, Marker{"App.sln", "nuget"},
                      Marker{"src/App.csproj", "nuget"}, Marker{"pyproject.toml", "pip"},
                      Marker{"requirements.txt", "pip"}, Marker{"setup.py", "pip"}));

TEST(PathsDetection, NothingInAnEmptyOrMissingDir) {
  kiln::testing::TempDir dir("kiln-cache-detect");
  EXPECT_TRUE(DetectLanguages(dir.path()).empty());
  EXPECT_TRUE(DetectLanguages(dir.path() / "missing").empty());
  // A marker name as a directory, or a project two levels down, does not count.
  fs::create_directories(dir.path() / "go.mod");
  WriteFile(dir.path() / "a" / "b" / "App.csproj", "x");
  EXPECT_TRUE(DetectLanguages(dir.path()).empty());
}

TEST_F(CachePluginTest, PathsGivesEnvironmentAndCreatesTheAreas) {
  WriteFile(harness.workspace() / "src" / "go.mod", "module x\n");
  WriteFile(harness.workspace() / "src" / "package.json", "{}");
  WriteFile(harness.workspace() / "src" / "pom.xml", "<project/>");
  const StepResult result = Run("paths", {{"dir", "src"}});
  ASSERT_TRUE(result.ok()) << result.message;
  const auto& out = result.outputs;
  EXPECT_EQ(out["languages"], nlohmann::json::array({"maven", "npm", "go"}));
  const fs::path root = repository_area::DependencyRoot(repository_area::AreaRoot(harness.build_cache_dir(), harness.job));
  EXPECT_EQ(out["env"]["GOMODCACHE"], (root / "go" / "mod").string());
  EXPECT_EQ(out["env"]["GOCACHE"], (root / "go" / "build").string());
  EXPECT_EQ(out["env"]["npm_config_cache"], (root / "npm" / "npm").string());
  EXPECT_EQ(out["env"]["MAVEN_OPTS"], "-Dmaven.repo.local=" + (root / "maven" / "repository").string());
  EXPECT_FALSE(out["env"].contains("PIP_CACHE_DIR"));
  EXPECT_EQ(out["dirs"]["go"], (root / "go").string());
  EXPECT_TRUE(fs::is_directory(root / "go" / "mod"));
  EXPECT_TRUE(fs::is_directory(root / "maven" / "repository"));
  EXPECT_TRUE(fs::exists(root / "go" / std::string(kLastUsedMarker)));
}

TEST_F(CachePluginTest, PathsEnvironmentForEveryLanguage) {
  const StepResult result = Run("paths", {{"languages", {"gradle", "nuget", "pip"}}});
  ASSERT_TRUE(result.ok()) << result.message;
  const fs::path root = repository_area::DependencyRoot(repository_area::AreaRoot(harness.build_cache_dir(), harness.job));
  EXPECT_EQ(result.outputs["env"]["GRADLE_USER_HOME"], (root / "gradle").string());
  EXPECT_EQ(result.outputs["env"]["NUGET_PACKAGES"], (root / "nuget" / "packages").string());
  EXPECT_EQ(result.outputs["env"]["PIP_CACHE_DIR"], (root / "pip").string());
}

TEST_F(CachePluginTest, PathsAreTheRepositorysOwn) {
  // A job's processes write these areas: another repository's build must not read them
  // (a package manager that trusts its cache would install what was planted there).
  const StepResult shop = Run("paths", {{"languages", {"npm"}}});
  ASSERT_TRUE(shop.ok()) << shop.message;
  harness.job["repo"]["url"] = "https://git.example/attacker/shop.git";
  const StepResult other = Run("paths", {{"languages", {"npm"}}});
  ASSERT_TRUE(other.ok()) << other.message;
  EXPECT_NE(shop.outputs["env"]["npm_config_cache"], other.outputs["env"]["npm_config_cache"]);
  for (const auto& result : {shop, other}) {
    const std::string npm_dir = result.outputs["dirs"]["npm"];
    EXPECT_EQ(npm_dir.rfind(harness.build_cache_dir().string() + "/", 0), 0u) << npm_dir;
    EXPECT_TRUE(repository_area::IsAreaName(
        fs::path(npm_dir).lexically_relative(harness.build_cache_dir()).begin()->string())) << npm_dir;
  }
}

TEST_F(CachePluginTest, PathsNeverCreatesDirectoriesThroughALinkAJobPlanted) {
  // A sandboxed process could leave deps/npm -> somewhere: the worker (root) must not
  // create npm's directories there.
  kiln::testing::TempDir outside("kiln-cache-outside");
  const fs::path deps = repository_area::DependencyRoot(repository_area::AreaRoot(harness.build_cache_dir(), harness.job));
  fs::create_directories(deps);
  fs::create_symlink(outside.path(), deps / "npm");
  const StepResult result = Run("paths", {{"languages", {"npm"}}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_EQ(result.message, "cache.paths: " + (deps / "npm").string() + " is not a directory (a symlink?)");
  EXPECT_TRUE(fs::is_empty(outside.path()));
  // One level down too.
  fs::remove(deps / "npm");
  fs::create_directories(deps / "npm");
  fs::create_symlink(outside.path(), deps / "npm" / "yarn");
  EXPECT_EQ(Run("paths", {{"languages", {"npm"}}}).status, StepResult::Status::terminal);
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST_F(CachePluginTest, PathsRejectsADirOutsideTheWorkspace) {
  for (const char* bad : {"../", "/etc", "a/../../x"}) {
    const StepResult result = Run("paths", {{"dir", bad}});
    EXPECT_EQ(result.status, StepResult::Status::terminal) << bad;
  }
  const StepResult unknown = Run("paths", {{"languages", {"cobol"}}});
  EXPECT_EQ(unknown.status, StepResult::Status::terminal);
  EXPECT_NE(unknown.message.find("cobol"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cache
