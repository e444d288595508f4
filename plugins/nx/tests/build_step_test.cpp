// nx.build over a real NX workspace (tests/fixtures/nx-workspace: shared <- api, docs alone),
// with NX from the npm registry.
#include "build_step.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "nx_config.hpp"
#include "nx_workspace_fixture.hpp"
#include "workspace.hpp"

namespace kiln::nx {
namespace {

namespace fs = std::filesystem;
using kiln::testing::ReadFile;
using kiln::testing::StepHarness;
using kiln::testing::TempDir;
using kiln::testing::WriteFile;
using nlohmann::json;
using testing::CopyFixture;
using testing::ShellIn;

/// The plugin's steps as the engine calls them, without loading the .so.
class NxPluginForTest final : public Plugin {
 public:
  std::string_view name() const override { return "nx"; }
  std::string_view version() const override { return "test"; }
  std::vector<std::string> steps() const override { return {"build"}; }
  StepResult run(std::string_view, const json& args, StepContext& ctx) override {
    return RunBuild(ctx, args, NxConfig{});
  }
};

std::vector<std::string> Strings(const json& list) { return list.get<std::vector<std::string>>(); }

class NxBuildTest : public ::testing::Test {
 protected:
  TempDir root_{"kiln-nx-build"};
  StepHarness harness_{root_.path()};
  NxPluginForTest plugin_;

  /// A fresh clone of the fixture in the job's workspace, as git.sync would leave it.
  fs::path Workspace(const std::string& name = "src") {
    const fs::path dir = harness_.workspace() / name;
    EXPECT_TRUE(CopyFixture(dir));
    return dir;
  }
};

TEST_F(NxBuildTest, RunManyBuildsEveryProject) {
  const fs::path dir = Workspace();
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_.log_text();
  EXPECT_EQ(result.outputs["command"], "run-many");
  EXPECT_EQ(Strings(result.outputs["projects"]), (std::vector<std::string>{"api", "docs", "shared"}));
  EXPECT_TRUE(result.outputs["cached"].empty());
  EXPECT_TRUE(result.outputs["failed"].empty());
  EXPECT_EQ(result.outputs["tasks"].size(), 3u);
  // The build really ran: the fixture's toolchain wrote its outputs.
  EXPECT_EQ(ReadFile(dir / "dist/apps/api/build.txt"), "api: go.mod main.go\n");
  // Languages per project, from the files at each root.
  EXPECT_EQ(result.outputs["languages"], (json{{"api", "go"}, {"docs", "python"}, {"shared", "node"}}));
  // node_modules was in step with the lockfile: install = "auto" did not reinstall.
  EXPECT_EQ(result.outputs["installed"], false);
  // Output streamed to the step log, NX's cache under the build cache, per repository.
  EXPECT_NE(harness_.log_text().find("built shared"), std::string::npos);
  const fs::path repo_cache = harness_.build_cache_dir() / repository_area::AreaName(harness_.job);
  EXPECT_TRUE(fs::exists(repo_cache / "nx/cache/run.json"));
  EXPECT_FALSE(fs::exists(dir / ".nx/cache"));
}

TEST_F(NxBuildTest, SecondBuildOfTheSameCommitComesFromNxCache) {
  auto first = harness_.run(plugin_, "build", {{"dir", Workspace("job1").string()}});
  ASSERT_TRUE(first.ok()) << first.message;
  // The next job gets a fresh clone elsewhere; only the build cache is shared.
  const fs::path second_dir = Workspace("job2");
  auto second = harness_.run(plugin_, "build", {{"dir", second_dir.string()}});
  ASSERT_TRUE(second.ok()) << second.message << "\n" << harness_.log_text();
  EXPECT_EQ(Strings(second.outputs["cached"]), (std::vector<std::string>{"api", "docs", "shared"}));
  EXPECT_EQ(Strings(second.outputs["projects"]), (std::vector<std::string>{"api", "docs", "shared"}));
  // Outputs restored from the cache into the new clone.
  EXPECT_TRUE(fs::exists(second_dir / "dist/libs/shared/build.txt"));
}

TEST_F(NxBuildTest, AffectedBuildsTheChangedLibraryAndItsDependentOnly) {
  const fs::path dir = Workspace();
  const std::string git = "git -c user.name=kiln -c user.email=kiln@test -c init.defaultBranch=main ";
  ShellIn(dir, git + "init -q . && " + git + "add -A && " + git + "commit -q -m base");
  std::string base;
  ASSERT_EQ(kiln::testing::Shell("git -C '" + dir.string() + "' rev-parse HEAD", &base), 0);
  base.erase(base.find_last_not_of("\n") + 1);
  WriteFile(dir / "libs/shared/src/index.js", "export const greeting = 'hello, world';\n");
  ShellIn(dir, git + "commit -q -am 'change shared'");
  std::string head;
  ASSERT_EQ(kiln::testing::Shell("git -C '" + dir.string() + "' rev-parse HEAD", &head), 0);
  head.erase(head.find_last_not_of("\n") + 1);

  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"base", base}, {"head", head}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_.log_text();
  EXPECT_EQ(result.outputs["command"], "affected");
  EXPECT_EQ(Strings(result.outputs["projects"]), (std::vector<std::string>{"api", "shared"}));
  EXPECT_FALSE(fs::exists(dir / "dist/apps/docs"));
}

TEST_F(NxBuildTest, BaseMissingFromTheCloneFallsBackToRunMany) {
  const fs::path dir = Workspace();
  const std::string git = "git -c user.name=kiln -c user.email=kiln@test ";
  ShellIn(dir, git + "init -q . && " + git + "add -A && " + git + "commit -q -m base");
  auto result = harness_.run(plugin_, "build",
                             {{"dir", dir.string()}, {"base", "1111111111111111111111111111111111111111"}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["command"], "run-many");
  EXPECT_NE(harness_.log_text().find("is not in the clone"), std::string::npos);
}

TEST_F(NxBuildTest, FailingTargetIsTerminalAndNamesProjectTargetAndOutput) {
  const fs::path dir = Workspace();
  WriteFile(dir / "libs/shared/BROKEN", "syntax error on line 3\n");
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}});
  ASSERT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("project shared failed its target build"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("error: shared is broken: syntax error on line 3"), std::string::npos)
      << result.message;
}

TEST_F(NxBuildTest, NoNxJsonIsTerminal) {
  const fs::path dir = harness_.workspace() / "src";
  ASSERT_TRUE(CopyFixture(dir, /*with_modules=*/false));
  fs::remove(dir / "nx.json");
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}});
  ASSERT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_EQ(result.message, "nx.build: no nx.json in " + fs::canonical(dir).string() + ": not an NX workspace");
}

TEST_F(NxBuildTest, MissingDirIsTerminal) {
  auto result = harness_.run(plugin_, "build", {{"dir", "nowhere"}});
  ASSERT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("nowhere does not exist"), std::string::npos) << result.message;
}

TEST_F(NxBuildTest, InstallCiUsesTheLockfileAndTheRepositorysNpmArea) {
  const fs::path dir = harness_.workspace() / "src";
  ASSERT_TRUE(CopyFixture(dir, /*with_modules=*/false));
  // The repository's own npm area (the SDK's layout, below its build cache directory), as an
  // earlier job of it left it; npm may not go online, so the install can only succeed if npm
  // ci is pointed at exactly it.
  const fs::path repo_deps = harness_.build_cache_dir() / repository_area::AreaName(harness_.job) / "deps";
  const fs::path npm_cache = repo_deps / "npm" / "npm";
  fs::create_directories(npm_cache.parent_path());
  ShellIn(harness_.workspace(), "cp -a '" + (testing::InstalledFixtureModules().parent_path() / "npm-cache").string() +
                                    "' '" + npm_cache.string() + "'");
  auto result = harness_.run(plugin_, "build",
                             {{"dir", dir.string()},
                              {"install", "ci"},
                              {"projects", {"docs"}},
                              {"env", {{"npm_config_offline", "true"}}}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_.log_text();
  EXPECT_EQ(result.outputs["installed"], true);
  EXPECT_EQ(result.outputs["package_manager"], "npm");
  EXPECT_EQ(Strings(result.outputs["projects"]), std::vector<std::string>{"docs"});
  EXPECT_NE(harness_.log_text().find("installing packages: npm ci"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "node_modules/.bin/nx"));
  // Marked used, so the cache plugin's eviction sees the area in use.
  EXPECT_TRUE(fs::exists(repo_deps / "npm" / ".kiln-last-used"));
  // The copy of the lockfile that tells a later job, after a cache restore, what is installed.
  EXPECT_EQ(ReadFile(dir / "node_modules/.kiln-installed-lockfile"), ReadFile(dir / "package-lock.json"));
}

/// A registry nobody listens on: any install attempt fails at once (and is retryable).
const json kNoRegistry = {{"npm_config_registry", "http://127.0.0.1:9/"}, {"npm_config_fetch_retries", "0"}};

TEST_F(NxBuildTest, NodeModulesRestoredIntoAFreshCheckoutIsNotInstalledAgain) {
  // As cache.restore leaves it: node_modules older than the checkout's lockfile, with the
  // copy of the lockfile kiln wrote after installing it.
  const fs::path dir = Workspace();
  fs::copy_file(dir / "package-lock.json", dir / "node_modules/.kiln-installed-lockfile");
  fs::last_write_time(dir / "package-lock.json", fs::file_time_type::clock::now() + std::chrono::hours(1));
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"projects", {"docs"}}, {"env", kNoRegistry}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_.log_text();
  EXPECT_EQ(result.outputs["installed"], false);
  EXPECT_NE(harness_.log_text().find("in step with package-lock.json"), std::string::npos);
}

TEST_F(NxBuildTest, NodeModulesFromAnotherLockfileIsInstalledAgain) {
  const fs::path dir = Workspace();
  WriteFile(dir / "node_modules/.kiln-installed-lockfile", "{ \"lockfileVersion\": 3 }\n");
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"projects", {"docs"}}, {"env", kNoRegistry}});
  // It tried to install (and the registry is unreachable), although npm's own marker is new.
  ASSERT_EQ(result.status, StepResult::Status::retryable) << result.message;
  EXPECT_NE(result.message.find("npm ci"), std::string::npos) << result.message;
}

TEST_F(NxBuildTest, InstallCiWithoutALockfileIsTerminal) {
  const fs::path dir = harness_.workspace() / "src";
  ASSERT_TRUE(CopyFixture(dir, /*with_modules=*/false));
  fs::remove(dir / "package-lock.json");
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"install", "ci"}});
  ASSERT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("needs a lockfile"), std::string::npos) << result.message;
}

TEST_F(NxBuildTest, InstallFailingOnTheNetworkIsRetryable) {
  const fs::path dir = harness_.workspace() / "src";
  ASSERT_TRUE(CopyFixture(dir, /*with_modules=*/false));
  // A registry on a loopback port nobody listens on; no retries inside npm.
  auto result = harness_.run(plugin_, "build",
                             {{"dir", dir.string()},
                              {"install", "ci"},
                              {"env", {{"npm_config_registry", "http://127.0.0.1:9/"},
                                       {"npm_config_fetch_retries", "0"}}}});
  ASSERT_EQ(result.status, StepResult::Status::retryable) << result.message;
  EXPECT_NE(result.message.find("npm ci"), std::string::npos) << result.message;
}

TEST_F(NxBuildTest, AMalformedPackageManagerIsTerminalAndNamesIt) {
  const fs::path dir = harness_.workspace() / "src";
  ASSERT_TRUE(CopyFixture(dir, /*with_modules=*/false));
  WriteFile(dir / "package.json", R"({ "name": "x", "packageManager": "yarn@latest", "devDependencies": { "nx": "21.6.11" } })");
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"env", kNoRegistry}});
  ASSERT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("packageManager 'yarn@latest'"), std::string::npos) << result.message;
}

TEST_F(NxBuildTest, InstallNoneWithoutNxIsTerminal) {
  const fs::path dir = harness_.workspace() / "src";
  ASSERT_TRUE(CopyFixture(dir, /*with_modules=*/false));
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"install", "none"}});
  ASSERT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("NX is not installed"), std::string::npos) << result.message;
}

/// Every pid whose command line contains `needle`.
std::vector<int> ProcessesMatching(const std::string& needle) {
  std::vector<int> pids;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto& c : cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline.find(needle) != std::string::npos && std::stoi(name) != ::getpid()) pids.push_back(std::stoi(name));
  }
  return pids;
}

/// Waits up to `limit` for `condition`; the machine is shared and slow at times.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

TEST_F(NxBuildTest, CancellationKillsNxAndEverythingUnderIt) {
  const fs::path dir = Workspace();
  // A target that never ends, with a number no other process on the machine sleeps for.
  const std::string marker = "sleep " + std::to_string(7000000 + ::getpid());
  json project = json::parse(ReadFile(dir / "apps/docs/project.json"));
  project["targets"]["hang"] = {{"executor", "nx:run-commands"}, {"options", {{"command", marker}}}};
  WriteFile(dir / "apps/docs/project.json", project.dump(2));

  StepResult result;
  std::thread step([&] { result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"targets", {"hang"}}}); });
  const bool started = Eventually([&] { return !ProcessesMatching(marker).empty(); }, std::chrono::seconds(90));
  harness_.cancel();
  step.join();
  ASSERT_TRUE(started) << "the hanging target never started:\n" << harness_.log_text();
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.message.find("cancelled"), std::string::npos) << result.message;
  // Nothing of it is left: not the sleep, not its shell, not NX itself.
  EXPECT_TRUE(Eventually([&] { return ProcessesMatching(marker).empty(); }, std::chrono::seconds(10)));
  EXPECT_TRUE(ProcessesMatching(marker).empty());
  EXPECT_TRUE(ProcessesMatching((dir / "node_modules").string()).empty());
}

TEST_F(NxBuildTest, TimeoutKillsTheTreeToo) {
  const fs::path dir = Workspace();
  const std::string marker = "sleep " + std::to_string(8000000 + ::getpid());
  json project = json::parse(ReadFile(dir / "apps/docs/project.json"));
  project["targets"]["hang"] = {{"executor", "nx:run-commands"}, {"options", {{"command", marker}}}};
  WriteFile(dir / "apps/docs/project.json", project.dump(2));
  // Long enough for NX to start the target on a busy machine; the target never ends.
  auto result = harness_.run(plugin_, "build", {{"dir", dir.string()}, {"targets", {"hang"}}},
                             std::chrono::seconds(10));
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(Eventually([&] { return ProcessesMatching(marker).empty(); }, std::chrono::seconds(10)));
  EXPECT_TRUE(ProcessesMatching((dir / "node_modules").string()).empty());
}

}  // namespace
}  // namespace kiln::nx
