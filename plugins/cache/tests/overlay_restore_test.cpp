// cache.restore of directories through a copy-on-write overlay (overlay_mount.hpp): the
// job sees the saved tree, its writes never reach the store, an entry in use is not
// evicted, and where no overlay can be mounted the tree is copied, saying why.
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "cache_gc.hpp"
#include "cache_plugin_fixture.hpp"
#include "cache_test_util.hpp"
#include "keyed_store.hpp"
#include "overlay_mount.hpp"
#include "workspace/mounts_under.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::ReadFile;
using kiln::testing::WriteFile;
using testing::DescribeTree;
using testing::MakeSampleTree;
namespace fs = std::filesystem;

class OverlayRestoreTest : public KeyedCacheTest {
 protected:
  fs::path tree(const std::string& key, int slot = 0) const { return entry(key) / "trees" / std::to_string(slot); }
  // The end of a job, as the engine does it: its mounts detached, its workspace emptied.
  void EndJob() {
    ASSERT_EQ(UnmountEverythingUnder(harness.workspace().string()), "");
    ASSERT_EQ(RemoveTree(harness.workspace()), "");
    fs::create_directories(harness.workspace());
  }
  // Saves a sample node_modules under `key` and ends that job; skips when this machine
  // cannot mount overlays at all.
  void SaveSample(const std::string& key) {
    MakeSampleTree(ws("node_modules"));
    WriteFile(ws("node_modules/pkg/index.js"), "module.exports = 1;\n");
    sample_ = DescribeTree(ws("node_modules"));
    const StepResult saved = Save(key, "node_modules");
    ASSERT_TRUE(saved.ok()) << saved.message;
    EndJob();
  }
  std::string sample_;
};

TEST_F(OverlayRestoreTest, ADirectoryIsMountedAndTheJobsWritesNeverReachTheStore) {
  SaveSample("npm-1");
  const StepResult restored = Restore("npm-1", "node_modules");
  ASSERT_TRUE(restored.ok()) << restored.message;
  ASSERT_EQ(restored.outputs["hit"], "exact");
  if (restored.outputs["mode"] != "overlay") GTEST_SKIP() << "no overlay here: " << restored.message;
  EXPECT_NE(restored.message.find("mounted (overlay)"), std::string::npos) << restored.message;
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);
  EXPECT_EQ(MountsUnder(ws("node_modules").string()).size(), 1u);

  // The job changes, adds and removes files under the restored path...
  WriteFile(ws("node_modules/pkg/index.js"), "module.exports = 'tampered';\n");
  WriteFile(ws("node_modules/planted.js"), "evil");
  fs::remove_all(ws("node_modules/pkg"));
  EXPECT_FALSE(fs::exists(ws("node_modules/pkg/index.js")));
  // ...and the store's tree is as saved, so the next job gets the saved files.
  EXPECT_EQ(DescribeTree(tree("npm-1")), sample_);
  EndJob();
  ASSERT_EQ(Restore("npm-1", "node_modules").outputs["mode"], "overlay");
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);
  EXPECT_EQ(ReadFile(ws("node_modules/pkg/index.js")), "module.exports = 1;\n");
  EXPECT_FALSE(fs::exists(ws("node_modules/planted.js")));
}

TEST_F(OverlayRestoreTest, RestoringTwiceInOneJobReplacesTheFirstOverlay) {
  SaveSample("npm-1");
  if (Restore("npm-1", "node_modules").outputs["mode"] != "overlay") GTEST_SKIP() << "no overlay here";
  WriteFile(ws("node_modules/extra"), "x");
  const StepResult again = Restore("npm-1", "node_modules");
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.outputs["mode"], "overlay");
  EXPECT_FALSE(fs::exists(ws("node_modules/extra")));
  EXPECT_EQ(MountsUnder(ws("node_modules").string()).size(), 1u);
}

TEST_F(OverlayRestoreTest, AnEntryAJobHasMountedIsNotEvictedUntilTheJobEnds) {
  SaveSample("npm-1");
  if (Restore("npm-1", "node_modules").outputs["mode"] != "overlay") GTEST_SKIP() << "no overlay here";
  KeyedStore store(harness.build_cache_dir(), scope());
  std::string error;
  EXPECT_FALSE(store.Evict("npm-1", &error));
  EXPECT_EQ(error, "");
  const GcReport report = GarbageCollect(harness.build_cache_dir(), std::uint64_t{0}, std::nullopt);
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(report.skipped, std::vector<std::string>{"keyed/" + scope() + "/npm-1"});
  EXPECT_TRUE(fs::exists(tree("npm-1")));
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);

  EndJob();
  EXPECT_TRUE(store.Evict("npm-1", &error)) << error;
  EXPECT_FALSE(fs::exists(tree("npm-1")));
}

// Workers in other containers share the cache volume but not this mount namespace: what
// keeps them from evicting a mounted entry is the pin's flock, not the mount table.
TEST_F(OverlayRestoreTest, AProcessThatCannotSeeTheMountStillCannotEvictTheEntry) {
  SaveSample("npm-1");
  if (Restore("npm-1", "node_modules").outputs["mode"] != "overlay") GTEST_SKIP() << "no overlay here";
  const pid_t child = ::fork();
  if (child == 0) {
    // A mount namespace of its own, without the job's overlay in it.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::umount2(ws("node_modules").c_str(), MNT_DETACH) != 0 || !MountsUnder(ws("node_modules").string()).empty()) {
      ::_exit(3);
    }
    std::string error;
    ::_exit(KeyedStore(harness.build_cache_dir(), scope()).Evict("npm-1", &error) ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: evicted while mounted; 3: could not set up the namespace";
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);
}

TEST_F(OverlayRestoreTest, ASavedDirectoryBecomesTheTreeAndTheJobStillSeesItsFiles) {
  MakeSampleTree(ws("node_modules"));
  const std::string sample = DescribeTree(ws("node_modules"));
  const StepResult saved = Save("npm-1", "node_modules");
  ASSERT_TRUE(saved.ok()) << saved.message;
  if (saved.message.find("kept as the tree") == std::string::npos) GTEST_SKIP() << "no overlay here: " << saved.message;
  // The job goes on with the same files, now shown through an overlay of the entry's tree.
  EXPECT_EQ(MountsUnder(ws("node_modules").string()).size(), 1u);
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample);
  EXPECT_EQ(DescribeTree(tree("npm-1")), sample);
  WriteFile(ws("node_modules/changed-after-the-save"), "x");
  EXPECT_EQ(DescribeTree(tree("npm-1")), sample);
  // The pack and the tree take room each (and the tree's marker a few bytes).
  const std::uint64_t bytes = saved.outputs["bytes"];
  EXPECT_GE(KeyedStore(harness.build_cache_dir(), scope()).List().at(0).bytes, 2 * bytes);
  EXPECT_LE(KeyedStore(harness.build_cache_dir(), scope()).List().at(0).bytes, 2 * bytes + 100);

  EndJob();
  const StepResult restored = Restore("npm-1", "node_modules");
  EXPECT_EQ(restored.outputs["mode"], "overlay") << restored.message;
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample);
}

TEST_F(OverlayRestoreTest, ATreeMadeInAnotherBootIsMadeAgainFromThePack) {
  SaveSample("npm-1");
  if (!fs::exists(tree("npm-1"))) GTEST_SKIP() << "no overlay here";
  // What a crash may leave: a tree whose data never reached the disk, from an earlier boot.
  WriteFile(fs::path(tree("npm-1").string() + ".boot"), "4a1c6c1e-0000-4000-8000-000000000000\n");
  ASSERT_EQ(RemoveTree(tree("npm-1") / "pkg"), "");
  const StepResult restored = Restore("npm-1", "node_modules");
  ASSERT_EQ(restored.outputs["mode"], "overlay") << restored.message;
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);
  EXPECT_EQ(ReadFile(fs::path(tree("npm-1").string() + ".boot")), ReadFile("/proc/sys/kernel/random/boot_id"));
}

TEST_F(OverlayRestoreTest, ADirectoryOnAnotherFileSystemIsSavedAndLeftAsItWas) {
  if (::mount("tmpfs", ws("").c_str(), "tmpfs", 0, "size=16m") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  MakeSampleTree(ws("node_modules"));
  const std::string sample = DescribeTree(ws("node_modules"));
  const StepResult saved = Save("npm-1", "node_modules");
  ASSERT_TRUE(saved.ok()) << saved.message;
  EXPECT_EQ(saved.message.find("kept as the tree"), std::string::npos) << saved.message;
  EXPECT_TRUE(MountsUnder(ws("node_modules").string()).empty());
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample);
  EXPECT_FALSE(fs::exists(tree("npm-1")));
}

TEST_F(OverlayRestoreTest, RestoreCopyInTheConfigCopies) {
  CopyOnly();
  SaveSample("npm-1");
  const StepResult restored = Restore("npm-1", "node_modules");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["mode"], "copy");
  EXPECT_TRUE(MountsUnder(harness.workspace().string()).empty());
  EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);
  EXPECT_FALSE(fs::exists(tree("npm-1")));
}

// The restored path is a mount point now: a symlink a step planted there must not carry
// the mount (or the copy) outside the workspace.
TEST_F(OverlayRestoreTest, ASymlinkPlantedAtTheTargetIsNotFollowed) {
  SaveSample("npm-1");
  kiln::testing::TempDir outside("kiln-cache-outside");
  fs::create_directory_symlink(outside.path(), ws("node_modules"));
  const StepResult restored = Restore("npm-1", "node_modules");
  EXPECT_TRUE(fs::is_empty(outside.path()));
  EXPECT_TRUE(MountsUnder(outside.path().string()).empty());
  if (restored.ok()) {
    EXPECT_FALSE(fs::is_symlink(ws("node_modules")));
    EXPECT_EQ(DescribeTree(ws("node_modules")), sample_);
  }
}

TEST_F(OverlayRestoreTest, AnEntryWithAFileIsCopiedAndSaysWhy) {
  MakeSampleTree(ws("node_modules"));
  WriteFile(ws("dist.txt"), "single file");
  ASSERT_TRUE(Save("mixed", {"node_modules", "dist.txt"}).ok());
  EndJob();
  const StepResult restored = Restore("mixed", {"node_modules", "dist.txt"});
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["mode"], "copy");
  EXPECT_NE(restored.message.find("\"dist.txt\" is not a directory"), std::string::npos) << restored.message;
  EXPECT_EQ(ReadFile(ws("dist.txt")), "single file");
}

// overlayfs cannot take a path with ':' in its options: the same restore then copies.
TEST(OverlayRestoreFallback, AWorkspaceOverlaysCannotUseGetsACopyThatSaysWhy) {
  kiln::testing::TempDir dir("kiln-cache:colon");
  kiln::testing::StepHarness harness(dir.path());
  std::unique_ptr<Plugin> plugin = MakeCachePlugin();
  MakeSampleTree(harness.workspace() / "node_modules");
  const std::string sample = DescribeTree(harness.workspace() / "node_modules");
  ASSERT_TRUE(harness.run(*plugin, "save", {{"key", "k"}, {"paths", "node_modules"}}).ok());
  ASSERT_EQ(RemoveTree(harness.workspace() / "node_modules"), "");

  const StepResult restored = harness.run(*plugin, "restore", {{"key", "k"}, {"paths", "node_modules"}});
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], "exact");
  EXPECT_EQ(restored.outputs["mode"], "copy");
  EXPECT_NE(restored.message.find("no overlay: "), std::string::npos) << restored.message;
  EXPECT_NE(restored.message.find("which overlay options cannot hold"), std::string::npos) << restored.message;
  EXPECT_EQ(DescribeTree(harness.workspace() / "node_modules"), sample);
  EXPECT_TRUE(MountsUnder(dir.path().string()).empty());
}

}  // namespace
}  // namespace kiln::cache
