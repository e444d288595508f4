// Issue 17's cache poisoning through a real `kiln worker` and nats-server: a repository that
// copies another's lockfile saves its node_modules under the other's key; the other never
// restores it. An untrusted job (a message with `trusted: false`) restores its repository's
// entry but what it saves no trusted job sees. One pipeline for every job, as the default
// pipeline is one: scoping is the cache plugin's, invisible to the script.
#include <filesystem>

#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

// The default pipeline's shape, with the lockfile's hash as the key. The node_modules it
// saves holds the URL of the repository that made it; the step returns what it restored.
constexpr const char* kModulesPipeline = R"(
local out = kiln.step("node_modules", function()
  kiln.exec { cmd = { "sh", "-c", "printf lock > package-lock.json" }, cwd = kiln.workspace }
  local key = "node-modules-" .. cache.hash { files = { "package-lock.json" } }.hash
  local r = cache.restore { key = key, paths = { "node_modules" } }
  if r.hit then
    local who = kiln.exec { cmd = { "cat", "node_modules/made-by" }, cwd = kiln.workspace }
    return { restored = r.scope, made_by = who.output_tail }
  end
  kiln.exec { cmd = { "sh", "-c", "mkdir -p node_modules && printf %s \"$URL\" > node_modules/made-by" },
              cwd = kiln.workspace, env = { URL = job.repo.url } }
  local s = cache.save { key = key, paths = { "node_modules" } }
  return { restored = false, saved = s.scope }
end)
)";

constexpr const char* kVictim = "https://example.invalid/victim/shop.git";
constexpr const char* kAttacker = "https://example.invalid/attacker/copy.git";

class CacheScopeWorkerTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    if (!std::filesystem::exists(std::filesystem::path(KILN_PLUGIN_DIR) / "cache.so")) {
      GTEST_SKIP() << "the cache plugin is not built";
    }
    WritePipeline("modules", kModulesPipeline);
    StartWorker();
  }
  // Publishes a job of `url` and returns what its step returned once it succeeded.
  nlohmann::json Run(const std::string& id, const std::string& url, bool trusted = true,
                     const std::string& branch = "main") {
    nlohmann::json job = {{"id", id},     {"repo", {{"url", url}}}, {"commit", kCommit},
                          {"branch", branch}, {"pipeline", "modules"}, {"trusted", trusted}};
    PublishRaw(job.dump(), id);
    const nlohmann::json state = WaitForStatus(id, {"succeeded", "failed", "dead", "timed_out", "cancelled"});
    EXPECT_TRUE(state.is_object() && state.value("status", "") == "succeeded") << state.dump();
    for (const auto& event : Events(id)) {
      if (event["type"] == "step.finished" && event["step"] == "node_modules") return event["outputs"];
    }
    ADD_FAILURE() << "no step.finished for node_modules in job " << id;
    return nullptr;
  }
};

TEST_F(CacheScopeWorkerTest, AnotherRepositorysNodeModulesUnderTheVictimsKeyIsNeverRestored) {
  EXPECT_EQ(Run("scope-attacker", kAttacker)["saved"], "repository");
  const nlohmann::json victim = Run("scope-victim-1", kVictim);
  EXPECT_EQ(victim["restored"], false) << victim.dump();
  EXPECT_EQ(victim["saved"], "repository") << victim.dump();
  const nlohmann::json again = Run("scope-victim-2", kVictim);
  EXPECT_EQ(again["restored"], "repository") << again.dump();
  EXPECT_EQ(again["made_by"], kVictim) << again.dump();
}

TEST_F(CacheScopeWorkerTest, AnUntrustedJobReadsItsRepositoryButWritesOnlyItsRef) {
  // First an untrusted job: nothing to restore, it saves into its ref's scope.
  const nlohmann::json fork = Run("scope-fork-1", kVictim, /*trusted=*/false, "pull/1");
  EXPECT_EQ(fork["saved"], "ref") << fork.dump();
  // A trusted job of the repository does not see it, nor does another pull request.
  const nlohmann::json main_job = Run("scope-main-1", kVictim);
  EXPECT_EQ(main_job["restored"], false) << main_job.dump();
  EXPECT_EQ(main_job["saved"], "repository");
  // Its own ref finds its own first; a new pull request gets the repository's.
  EXPECT_EQ(Run("scope-fork-2", kVictim, false, "pull/1")["restored"], "ref");
  const nlohmann::json other = Run("scope-fork-3", kVictim, false, "pull/2");
  EXPECT_EQ(other["restored"], "repository") << other.dump();
}

}  // namespace
}  // namespace kiln::testing
