// The keyed store's remote level against a real registry (Debian's docker-registry, with
// TLS from a test CA and htpasswd auth: tests/support/local_registry): two workers, each
// with a build cache of its own, share entries through it; a repository never sees
// another's; a tampered blob is a miss; an unreachable registry fails no step.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "cache_plugin_fixture.hpp"
#include "cache_test_util.hpp"
#include "kiln/sha256.hpp"
#include "remote_artifact.hpp"
#include "support/local_registry.hpp"

namespace kiln::cache {
namespace {
namespace fs = std::filesystem;
using kiln::testing::LocalRegistry;
using kiln::testing::StepHarness;
using testing::DescribeTree;
using testing::MakeSampleTree;

constexpr const char* kUser = "cache-bot";
constexpr const char* kPassword = "remote-cache-pa55";

// One worker: its own build cache and workspace, its own plugin instance.
struct Worker {
  Worker(const fs::path& root, const nlohmann::json& config) : harness(root), plugin(MakeCachePlugin()) {
    harness.set_secret("cache-registry", std::string(kUser) + ":" + kPassword);
    EXPECT_EQ(plugin->configure(config), "");
  }
  StepResult Run(std::string_view step, const nlohmann::json& args) { return harness.run(*plugin, step, args); }
  StepResult Save(const std::string& key) { return Run("save", {{"key", key}, {"paths", {"node_modules"}}}); }
  StepResult Restore(const std::string& key) { return Run("restore", {{"key", key}, {"paths", {"node_modules"}}}); }
  /// The remote counters once no push is pending (pushes run after save returns).
  nlohmann::json SettledCounters() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      StepResult stats = Run("stats", nlohmann::json::object());
      EXPECT_TRUE(stats.ok()) << stats.message;
      const nlohmann::json remote = stats.outputs.value("remote", nlohmann::json::object());
      if (remote.value("pushes_pending", 0) == 0 || std::chrono::steady_clock::now() > deadline) return remote;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::uint64_t Count(const nlohmann::json& counters, const char* op, const char* result) {
    return counters.contains(op) ? counters[op].value(result, std::uint64_t{0}) : 0;
  }
  fs::path ws(const std::string& name) const { return harness.workspace() / name; }

  StepHarness harness;
  std::unique_ptr<Plugin> plugin;
};

class RemoteLevelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LocalRegistry::Available()) << "these tests need docker-registry, openssl and htpasswd";
    registry = std::make_unique<LocalRegistry>(dir.path() / "registry", LocalRegistry::Options{true, kUser, kPassword});
    config = {{"restore", "copy"},
              {"remote",
               {{"registry", registry->host() + "/kiln-cache"},
                {"secret", "cache-registry"},
                {"cert_dir", registry->cert_dir().string()},
                {"timeout", 60}}}};
    a = std::make_unique<Worker>(dir.path() / "worker-a", config);
    b = std::make_unique<Worker>(dir.path() / "worker-b", config);
    MakeSampleTree(a->ws("node_modules"));
  }

  /// The registry's repositories under kiln-cache/: one per scope that was pushed to.
  std::vector<std::string> RegistryScopes() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& item :
         fs::directory_iterator(registry->storage() / "docker/registry/v2/repositories/kiln-cache", ec)) {
      names.push_back(item.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  kiln::testing::TempDir dir{"kiln-remote-cache"};
  std::unique_ptr<LocalRegistry> registry;
  nlohmann::json config;
  std::unique_ptr<Worker> a, b;
};

TEST_F(RemoteLevelTest, AnEntrySavedOnOneWorkerIsRestoredOnAnotherAndKeptThere) {
  StepResult saved = a->Save("deps-1");
  ASSERT_TRUE(saved.ok()) << saved.message;
  EXPECT_EQ(saved.outputs["status"], "saved");
  EXPECT_EQ(saved.outputs["remote"], "queued");
  EXPECT_EQ(a->Count(a->SettledCounters(), "push", "ok"), 1u) << a->SettledCounters().dump();

  StepResult restored = b->Restore("deps-1");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], "exact") << b->harness.log_text();
  EXPECT_EQ(restored.outputs["source"], "remote");
  EXPECT_EQ(DescribeTree(b->ws("node_modules")), DescribeTree(a->ws("node_modules")));
  EXPECT_EQ(b->Count(b->SettledCounters(), "fetch", "hit"), 1u);

  // Kept: with the registry gone, worker B restores it from its own store.
  registry->Stop();
  fs::remove_all(b->ws("node_modules"));
  restored = b->Restore("deps-1");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["source"], "local");
  EXPECT_EQ(DescribeTree(b->ws("node_modules")), DescribeTree(a->ws("node_modules")));
  // B's save of what it fetched pushes nothing: the entry is known to be in the registry.
  StepResult again = b->Save("deps-1");
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.outputs["status"], "exists");
  EXPECT_FALSE(again.outputs.contains("remote"));

  // Neither the password nor its base64 reaches a log.
  for (Worker* w : {a.get(), b.get()}) EXPECT_EQ(w->harness.log_text().find(kPassword), std::string::npos);
}

TEST_F(RemoteLevelTest, ARepositoryNeitherReadsNorWritesAnothersEntries) {
  ASSERT_TRUE(a->Save("deps-1").ok());
  a->SettledCounters();
  b->harness.job["repo"] = {{"url", "https://example.invalid/mallory/shop.git"}, {"name", "mallory/shop"}};
  StepResult restored = b->Restore("deps-1");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false);
  EXPECT_FALSE(fs::exists(b->ws("node_modules")));
  EXPECT_EQ(b->Count(b->SettledCounters(), "fetch", "miss"), 1u);

  // B's save of the same key lands in B's own registry repository, not over A's entry.
  MakeSampleTree(b->ws("node_modules"));
  kiln::testing::WriteFile(b->ws("node_modules") / "planted.js", "steal()\n");
  ASSERT_TRUE(b->Save("deps-1").ok());
  b->SettledCounters();
  const std::string scope_a = repository_scope::ScopesForJob(a->harness.job).save;
  const std::string scope_b = repository_scope::ScopesForJob(b->harness.job).save;
  std::vector<std::string> expected = {scope_a, scope_b};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(RegistryScopes(), expected);

  // A third worker of repository A still gets A's tree.
  Worker c(dir.path() / "worker-c", config);
  StepResult from_a = c.Restore("deps-1");
  ASSERT_TRUE(from_a.ok()) << from_a.message;
  EXPECT_EQ(from_a.outputs["source"], "remote");
  EXPECT_FALSE(fs::exists(c.ws("node_modules") / "planted.js"));
  EXPECT_EQ(DescribeTree(c.ws("node_modules")), DescribeTree(a->ws("node_modules")));
}

TEST_F(RemoteLevelTest, ATamperedBlobInTheRegistryIsAMissNeverARestore) {
  ASSERT_TRUE(a->Save("deps-1").ok());
  ASSERT_EQ(a->Count(a->SettledCounters(), "push", "ok"), 1u);
  // The pack's blob, found by its digest in the registry's storage, rewritten in place.
  const fs::path pack = a->harness.build_cache_dir() / "keyed" / repository_scope::ScopesForJob(a->harness.job).save /
                        "deps-1" / "pack";
  Sha256 hash;
  hash.Update(kiln::testing::ReadFile(pack));
  const std::string hex = hash.HexDigest();
  const fs::path blob = registry->storage() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
  ASSERT_TRUE(fs::exists(blob));
  std::string content = kiln::testing::ReadFile(blob);
  content[content.size() / 2] ^= 0x20;
  kiln::testing::WriteFile(blob, content);

  StepResult restored = b->Restore("deps-1");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false);
  EXPECT_FALSE(fs::exists(b->ws("node_modules")));
  EXPECT_NE(b->harness.log_text().find("corrupt or altered"), std::string::npos) << b->harness.log_text();
  EXPECT_EQ(b->Count(b->SettledCounters(), "fetch", "rejected"), 1u);
  // Nothing of it stays in B's store.
  EXPECT_FALSE(fs::exists(b->harness.build_cache_dir() / "keyed" / repository_scope::ScopesForJob(b->harness.job).save /
                          "deps-1"));
}

TEST_F(RemoteLevelTest, AnUnreachableRegistryFailsNoStepAndIsCounted) {
  registry->Stop();
  StepResult saved = a->Save("deps-1");
  ASSERT_TRUE(saved.ok()) << saved.message;
  EXPECT_EQ(saved.outputs["status"], "saved");
  const nlohmann::json counters = a->SettledCounters();
  EXPECT_EQ(a->Count(counters, "push", "error"), 1u) << counters.dump();
  EXPECT_NE(counters.value("last_push_error", "").find("deps-1"), std::string::npos) << counters.dump();

  StepResult restored = b->Restore("deps-1");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false);
  EXPECT_EQ(b->Count(b->SettledCounters(), "fetch", "error"), 1u);
  EXPECT_NE(b->harness.log_text().find("remote: "), std::string::npos);

  // Back up: the next save of the key pushes what the first could not.
  registry->Start();
  StepResult again = a->Save("deps-1");
  EXPECT_EQ(again.outputs["status"], "exists");
  EXPECT_EQ(again.outputs["remote"], "queued");
  EXPECT_EQ(a->Count(a->SettledCounters(), "push", "ok"), 1u);
  fs::remove_all(b->ws("node_modules"));
  EXPECT_EQ(b->Restore("deps-1").outputs["source"], "remote");
}

TEST_F(RemoteLevelTest, AnotherRepositorysArtifactCopiedUnderThisOnesTagIsRejected) {
  // Someone with the registry's login copies repository A's entry, digests intact, to the
  // tag repository B would fetch: skopeo finds nothing wrong; the annotations name A's scope.
  ASSERT_TRUE(a->Save("deps-1").ok());
  ASSERT_EQ(a->Count(a->SettledCounters(), "push", "ok"), 1u);
  b->harness.job["repo"] = {{"url", "https://example.invalid/mallory/shop.git"}, {"name", "mallory/shop"}};
  const std::string scope_a = repository_scope::ScopesForJob(a->harness.job).save;
  const std::string scope_b = repository_scope::ScopesForJob(b->harness.job).save;
  const std::string tag = EntryTag("deps-1");
  const std::string command = "skopeo copy --quiet --authfile /dev/null --src-creds " + std::string(kUser) + ":" +
                              kPassword + " --dest-creds " + kUser + ":" + kPassword + " --src-cert-dir " +
                              registry->cert_dir().string() + " --dest-cert-dir " + registry->cert_dir().string() +
                              " docker://" + registry->host() + "/kiln-cache/" + scope_a + ":" + tag + " docker://" +
                              registry->host() + "/kiln-cache/" + scope_b + ":" + tag + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  StepResult restored = b->Restore("deps-1");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false);
  EXPECT_FALSE(fs::exists(b->ws("node_modules")));
  EXPECT_NE(b->harness.log_text().find("another scope"), std::string::npos) << b->harness.log_text();
  EXPECT_EQ(b->Count(b->SettledCounters(), "fetch", "rejected"), 1u);
}

}  // namespace
}  // namespace kiln::cache
