// Issue 17's cache poisoning, through the real JobRunner, Lua and the cache plugin's .so: the
// job message's repository and `trusted` reach the plugin as ctx.job() (Job::to_json), and
// decide whose entries a `cache.save { key = ... }` and `cache.restore` see. The script is
// the same for every job, as the default pipeline's is: scoping is invisible to pipelines.
#include <filesystem>

#include <gtest/gtest.h>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;

// The default pipeline's shape: a node_modules keyed by the lockfile's hash, which a
// repository that copies the lockfile gets too. It reports what it restored in a step log.
constexpr const char* kScript = R"(kiln.step("node_modules", function()
  kiln.exec { cmd = { "sh", "-c", "printf lock > package-lock.json" }, cwd = kiln.workspace }
  local lock = cache.hash { files = { "package-lock.json" } }
  local key = "node-modules-" .. lock.hash
  local r = cache.restore { key = key, paths = { "node_modules" } }
  if r.hit then
    local who = kiln.exec { cmd = { "cat", "node_modules/who" }, cwd = kiln.workspace }
    kiln.log("restored " .. r.scope .. ", from: " .. who.output_tail)
  else
    kiln.log("missed")
    kiln.exec { cmd = { "sh", "-c", "mkdir -p node_modules && printf %s \"$WHO\" > node_modules/who" },
                cwd = kiln.workspace, env = { WHO = job.env.WHO } }
    cache.save { key = key, paths = { "node_modules" } }
  end
end))";

class CacheScopePipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path so = fs::path(KILN_PLUGIN_DIR) / "cache.so";
    if (!fs::exists(so)) GTEST_SKIP() << "the cache plugin is not built: " << so;
    ASSERT_TRUE(fixture.plugins.load_file(so));
    ASSERT_TRUE(fixture.plugins.configure({}).empty());
  }
  // Runs kScript as a job of `url`; returns every event, serialised.
  std::string RunAs(const std::string& url, const std::string& who, bool trusted = true,
                    const std::string& branch = "main") {
    fixture.job.id = "01JSCOPE" + std::to_string(++runs_);
    fixture.job.repo_url = url;
    fixture.job.repo_name = "";
    fixture.job.branch = branch;
    fixture.job.trusted = trusted;
    fixture.job.env["WHO"] = who;
    const PipelineRun run = fixture.run(kScript);
    EXPECT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error << "\n" << run.dump();
    return run.dump();
  }
  static bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

  PipelineFixture fixture;
  int runs_ = 0;
};

TEST_F(CacheScopePipeline, AnotherRepositorysNodeModulesUnderTheVictimsKeyIsNotRestored) {
  const std::string planted = RunAs("https://example.invalid/attacker/copy.git", "attacker");
  EXPECT_TRUE(Has(planted, "missed")) << planted;
  const std::string victim = RunAs("https://example.invalid/victim/shop.git", "victim");
  EXPECT_TRUE(Has(victim, "missed")) << victim;
  EXPECT_FALSE(Has(victim, "from: attacker")) << victim;
  // Its second job gets its own.
  const std::string again = RunAs("https://example.invalid/victim/shop.git", "victim");
  EXPECT_TRUE(Has(again, "from: victim")) << again;
}

TEST_F(CacheScopePipeline, AnUntrustedJobReadsItsRepositoryAndWritesOnlyItsRef) {
  RunAs("https://example.invalid/victim/shop.git", "main");
  const std::string fork = RunAs("https://example.invalid/victim/shop.git", "fork", /*trusted=*/false, "pr-1");
  EXPECT_TRUE(Has(fork, "restored repository")) << fork;
  EXPECT_TRUE(Has(fork, "from: main")) << fork;

  // A fork's save on a key the repository has not saved yet stays in its ref.
  fs::remove_all(fs::path(fixture.config.build.build_cache_path) / "keyed");
  const std::string first = RunAs("https://example.invalid/victim/shop.git", "fork", /*trusted=*/false, "pr-1");
  EXPECT_TRUE(Has(first, "missed")) << first;
  const std::string trusted = RunAs("https://example.invalid/victim/shop.git", "main");
  EXPECT_TRUE(Has(trusted, "missed")) << trusted;
  EXPECT_FALSE(Has(trusted, "from: fork")) << trusted;
}

}  // namespace
}  // namespace kiln::testing
