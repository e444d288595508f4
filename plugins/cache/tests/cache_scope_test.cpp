// Keyed entries belong to one repository, and an untrusted job writes only its ref's scope
// (docs/plugins/cache.md, "Scopes"): the attack of issue 17, a repository that commits a
// copy of a victim's lockfile and saves under the victim's key, must end in a miss.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "cache_gc.hpp"
#include "cache_plugin_fixture.hpp"
#include "cache_test_util.hpp"
#include "kiln/repository_scope.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::ReadFile;
using kiln::testing::WriteFile;
namespace fs = std::filesystem;

constexpr const char* kVictim = "https://github.com/victim/shop.git";
constexpr const char* kAttacker = "https://github.com/attacker/copy-of-shop.git";
// What the default pipeline saves node_modules under: the lockfile's hash, which anyone
// who copies the lockfile gets too.
constexpr const char* kLockKey = "node-modules-3f1c0ffee";

class CacheScopeTest : public KeyedCacheTest {
 protected:
  void SetUp() override { CopyOnly(); }

  void BecomeJobOf(const std::string& url, bool trusted = true, const std::string& branch = "main") {
    harness.job["repo"] = {{"url", url}};
    harness.job["branch"] = branch;
    harness.job["trusted"] = trusted;
  }
  // A node_modules whose one file says who made it, saved under kLockKey.
  StepResult SaveNodeModules(const std::string& made_by) {
    fs::remove_all(ws("node_modules"));
    WriteFile(ws("node_modules/.bin/nx"), made_by);
    return Save(kLockKey, "node_modules");
  }
  StepResult RestoreNodeModules() {
    fs::remove_all(ws("node_modules"));
    return Restore(kLockKey, "node_modules", nlohmann::json::array({"node-modules-"}));
  }
  std::string RestoredBy() { return fs::exists(ws("node_modules/.bin/nx")) ? ReadFile(ws("node_modules/.bin/nx")) : ""; }
};

TEST_F(CacheScopeTest, ARepositorySavingUnderAnotherRepositorysKeyIsNotRestoredThere) {
  BecomeJobOf(kAttacker);
  const StepResult planted = SaveNodeModules("attacker");
  ASSERT_EQ(planted.outputs["status"], "saved") << planted.message;

  BecomeJobOf(kVictim);
  const StepResult restored = RestoreNodeModules();
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false) << restored.message;
  EXPECT_FALSE(fs::exists(ws("node_modules")));

  // The victim's own save is not "exists" (the key is free in its scope) and is what it gets.
  ASSERT_EQ(SaveNodeModules("victim").outputs["status"], "saved");
  EXPECT_EQ(RestoreNodeModules().outputs["hit"], "exact");
  EXPECT_EQ(RestoredBy(), "victim");
  // And the attacker still gets only its own.
  BecomeJobOf(kAttacker);
  EXPECT_EQ(RestoreNodeModules().outputs["hit"], "exact");
  EXPECT_EQ(RestoredBy(), "attacker");
}

TEST_F(CacheScopeTest, SpellingsOfOneRepositoryShareItsEntries) {
  BecomeJobOf("https://github.com/victim/shop.git");
  ASSERT_EQ(SaveNodeModules("victim").outputs["status"], "saved");
  BecomeJobOf("HTTPS://token@GitHub.com/victim/shop/");
  const StepResult restored = RestoreNodeModules();
  EXPECT_EQ(restored.outputs["hit"], "exact") << restored.message;
  EXPECT_EQ(RestoredBy(), "victim");
}

TEST_F(CacheScopeTest, AnUntrustedJobsSaveIsSeenByNoTrustedJobAndNoOtherRef) {
  BecomeJobOf(kVictim, /*trusted=*/false, "fork-pr-1");
  const StepResult saved = SaveNodeModules("fork");
  ASSERT_EQ(saved.outputs["status"], "saved") << saved.message;
  EXPECT_EQ(saved.outputs["scope"], "ref");

  BecomeJobOf(kVictim, /*trusted=*/true, "main");
  EXPECT_EQ(RestoreNodeModules().outputs["hit"], false);
  EXPECT_FALSE(fs::exists(ws("node_modules")));

  BecomeJobOf(kVictim, /*trusted=*/false, "fork-pr-2");
  EXPECT_EQ(RestoreNodeModules().outputs["hit"], false);

  // Its own ref finds it again.
  BecomeJobOf(kVictim, /*trusted=*/false, "fork-pr-1");
  const StepResult again = RestoreNodeModules();
  EXPECT_EQ(again.outputs["hit"], "exact") << again.message;
  EXPECT_EQ(again.outputs["scope"], "ref");
  EXPECT_EQ(RestoredBy(), "fork");
}

TEST_F(CacheScopeTest, AnUntrustedJobRestoresItsRepositorysEntryButCannotReplaceIt) {
  BecomeJobOf(kVictim);
  ASSERT_EQ(SaveNodeModules("main").outputs["status"], "saved");

  BecomeJobOf(kVictim, /*trusted=*/false, "fork-pr-1");
  const StepResult restored = RestoreNodeModules();
  EXPECT_EQ(restored.outputs["hit"], "exact") << restored.message;
  EXPECT_EQ(restored.outputs["scope"], "repository");
  EXPECT_EQ(RestoredBy(), "main");
  // Its save under the same key goes to its ref's scope...
  const StepResult saved = SaveNodeModules("fork");
  EXPECT_EQ(saved.outputs["status"], "saved") << saved.message;
  EXPECT_EQ(saved.outputs["scope"], "ref");
  // ...which it now prefers, while the repository's entry stays as main saved it.
  EXPECT_EQ(RestoreNodeModules().outputs["scope"], "ref");
  EXPECT_EQ(RestoredBy(), "fork");
  BecomeJobOf(kVictim);
  EXPECT_EQ(RestoreNodeModules().outputs["hit"], "exact");
  EXPECT_EQ(RestoredBy(), "main");
}

TEST_F(CacheScopeTest, AJobWithoutARepositoryHasAScopeOfItsOwn) {
  harness.job.erase("repo");
  const StepResult saved = SaveNodeModules("local");
  ASSERT_EQ(saved.outputs["status"], "saved") << saved.message;
  EXPECT_TRUE(fs::exists(harness.build_cache_dir() / "keyed" / "local" / kLockKey / "manifest"));
  BecomeJobOf(kVictim);
  EXPECT_EQ(RestoreNodeModules().outputs["hit"], false);
}

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(CacheScopeTest, EntriesArePrivateToTheWorker) {
  // A store made by an older kiln, world-readable: made private by the next save.
  fs::create_directories(harness.build_cache_dir() / "keyed");
  fs::permissions(harness.build_cache_dir() / "keyed", fs::perms(0755));
  ::umask(022);
  ASSERT_EQ(SaveNodeModules("x").outputs["status"], "saved");
  ASSERT_EQ(RestoreNodeModules().outputs["hit"], "exact");  // takes the key's lock
  EXPECT_EQ(ModeOf(harness.build_cache_dir() / "keyed"), 0700u);
  EXPECT_EQ(ModeOf(keyed()), 0700u);
  for (const char* sub : {".tmp", ".trash", ".locks"}) EXPECT_EQ(ModeOf(keyed() / sub), 0700u) << sub;
  EXPECT_EQ(ModeOf(entry(kLockKey)), 0700u);
  for (const char* file : {"manifest", "pack", "last-used"}) EXPECT_EQ(ModeOf(entry(kLockKey) / file), 0600u) << file;
  EXPECT_EQ(ModeOf(keyed() / ".locks" / (std::string(kLockKey) + ".lock")), 0600u);
}

TEST_F(CacheScopeTest, OverlayTreesArePrivateToo) {
  ASSERT_EQ(plugin->configure(nlohmann::json::object()), "");  // restore: auto
  const StepResult saved = SaveNodeModules("x");
  ASSERT_EQ(saved.outputs["status"], "saved");
  if (!fs::exists(entry(kLockKey) / "trees")) {
    // Not kept as a tree by the save (no overlays here): the first overlay restore makes it.
    RestoreNodeModules();
  }
  if (!fs::exists(entry(kLockKey) / "trees")) GTEST_SKIP() << "no overlay here";
  EXPECT_EQ(ModeOf(entry(kLockKey) / "trees"), 0700u);
  for (const auto& item : fs::directory_iterator(entry(kLockKey) / "trees")) {
    if (item.path().extension() == ".boot") {
      EXPECT_EQ(ModeOf(item.path()), 0600u) << item.path();
    }
  }
}

TEST_F(CacheScopeTest, GcSeesEveryScopeAndEvictsEntriesFromBeforeScopes) {
  BecomeJobOf(kVictim);
  ASSERT_EQ(SaveNodeModules("victim").outputs["status"], "saved");
  const fs::path victim_entry = entry(kLockKey);
  BecomeJobOf(kVictim, /*trusted=*/false, "fork-pr-1");
  ASSERT_EQ(SaveNodeModules("fork").outputs["status"], "saved");
  const fs::path fork_entry = entry(kLockKey);
  ASSERT_NE(victim_entry, fork_entry);
  // An entry as kiln wrote them before scopes, straight under keyed/: nobody reads it now.
  fs::copy(victim_entry, harness.build_cache_dir() / "keyed" / "node-modules-old", fs::copy_options::recursive);

  const StepResult stats = Run("stats", nlohmann::json::object());
  ASSERT_TRUE(stats.ok()) << stats.message;
  EXPECT_EQ(stats.outputs["areas"]["keyed"]["entries"], 3);

  const GcReport report = GarbageCollect(harness.build_cache_dir(), std::nullopt, std::nullopt);
  ASSERT_EQ(report.evicted.size(), 1u);
  EXPECT_EQ(report.evicted[0].unit, "keyed/node-modules-old");
  EXPECT_EQ(report.evicted[0].reason, "unscoped");
  EXPECT_TRUE(fs::exists(victim_entry / "manifest"));
  EXPECT_TRUE(fs::exists(fork_entry / "manifest"));

  // A size cap reaches entries of every scope.
  const GcReport all = GarbageCollect(harness.build_cache_dir(), std::uint64_t{0}, std::nullopt);
  EXPECT_EQ(all.evicted.size(), 2u);
  EXPECT_FALSE(fs::exists(victim_entry));
  EXPECT_FALSE(fs::exists(fork_entry));
}

}  // namespace
}  // namespace kiln::cache
