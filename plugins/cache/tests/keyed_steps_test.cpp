#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "cache_plugin_fixture.hpp"
#include "cache_test_util.hpp"
#include "keyed_store.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::ReadFile;
using kiln::testing::WriteFile;
using testing::DescribeTree;
using testing::MakeSampleTree;
namespace fs = std::filesystem;

class KeyedStepsTest : public KeyedCacheTest {
 protected:
  void SetUp() override { CopyOnly(); }
};

TEST_F(KeyedStepsTest, ExactHitRestoresTheSameTree) {
  MakeSampleTree(ws("node_modules"));
  WriteFile(ws("dist.txt"), "single file");
  const std::string before = DescribeTree(ws("node_modules"));
  const StepResult saved = Save("npm-abc", {"node_modules", "dist.txt"});
  ASSERT_TRUE(saved.ok()) << saved.message;
  EXPECT_EQ(saved.outputs["status"], "saved");
  EXPECT_EQ(saved.outputs["files"], 7);  // six in the tree, one single file

  ASSERT_EQ(RemoveTree(ws("node_modules")), "");
  fs::remove(ws("dist.txt"));
  const StepResult restored = Restore("npm-abc", {"node_modules", "dist.txt"});
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], "exact");
  EXPECT_EQ(restored.outputs["key"], "npm-abc");
  EXPECT_EQ(DescribeTree(ws("node_modules")), before);
  EXPECT_EQ(ReadFile(ws("dist.txt")), "single file");
  // No temp dirs left beside the targets.
  for (const auto& item : fs::directory_iterator(harness.workspace())) {
    EXPECT_EQ(item.path().filename().string().rfind(".kiln-", 0), std::string::npos) << item.path();
  }
}

TEST_F(KeyedStepsTest, RestoreReplacesWhatIsThere) {
  WriteFile(ws("out/kept.txt"), "cached");
  ASSERT_TRUE(Save("k", "out").ok());
  WriteFile(ws("out/stale.txt"), "stale");
  WriteFile(ws("out/kept.txt"), "changed");
  const StepResult restored = Restore("k", "out");
  ASSERT_EQ(restored.outputs["hit"], "exact") << restored.message;
  EXPECT_EQ(ReadFile(ws("out/kept.txt")), "cached");
  EXPECT_FALSE(fs::exists(ws("out/stale.txt")));
}

TEST_F(KeyedStepsTest, PrefixFallbackTakesTheNewestMatch) {
  WriteFile(ws("deps/v"), "old");
  ASSERT_TRUE(Save("deps-linux-111", "deps").ok());
  WriteFile(ws("deps/v"), "new");
  ASSERT_TRUE(Save("deps-linux-222", "deps").ok());
  WriteFile(ws("deps/v"), "other os");
  ASSERT_TRUE(Save("deps-mac-333", "deps").ok());
  // Make "111" clearly older whatever the clock's resolution.
  fs::last_write_time(entry("deps-linux-111") / "manifest",
                      fs::last_write_time(entry("deps-linux-222") / "manifest") - std::chrono::hours(1));

  RemoveTree(ws("deps"));
  const StepResult restored = Restore("deps-linux-999", "deps", {"deps-linux-", "deps-"});
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], "prefix");
  EXPECT_EQ(restored.outputs["key"], "deps-linux-222");
  EXPECT_EQ(restored.outputs["requested_key"], "deps-linux-999");
  EXPECT_EQ(ReadFile(ws("deps/v")), "new");
}

TEST_F(KeyedStepsTest, MissLeavesTheWorkspaceAlone) {
  WriteFile(ws("deps/v"), "mine");
  const StepResult restored = Restore("nothing-here", "deps", {"nothing-"});
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false);
  EXPECT_TRUE(restored.outputs["key"].is_null());
  EXPECT_EQ(ReadFile(ws("deps/v")), "mine");
}

TEST_F(KeyedStepsTest, AnEntryOfOtherPathsIsAMiss) {
  WriteFile(ws("a/x"), "x");
  ASSERT_TRUE(Save("k1", "a").ok());
  EXPECT_EQ(Restore("k1", "b").outputs["hit"], false);
  EXPECT_EQ(Restore("k1", {"a", "b"}).outputs["hit"], false);
  EXPECT_EQ(Restore("k1", "./a").outputs["hit"], "exact");
  // Absolute paths inside the workspace name the same thing.
  EXPECT_EQ(Restore("k1", ws("a").string()).outputs["hit"], "exact");
}

TEST_F(KeyedStepsTest, SavingAnExistingKeyKeepsTheFirst) {
  WriteFile(ws("a/x"), "first");
  ASSERT_EQ(Save("k", "a").outputs["status"], "saved");
  WriteFile(ws("a/x"), "second");
  const StepResult again = Save("k", "a");
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.outputs["status"], "exists");
  EXPECT_EQ(again.outputs["saved"], false);
  Restore("k", "a");
  EXPECT_EQ(ReadFile(ws("a/x")), "first");
}

TEST_F(KeyedStepsTest, SavingNothingIsNotAnError) {
  const StepResult saved = Save("k", {"not-there", "nor-this"});
  ASSERT_TRUE(saved.ok()) << saved.message;
  EXPECT_EQ(saved.outputs["status"], "nothing");
  EXPECT_FALSE(fs::exists(entry("k")));
}

TEST_F(KeyedStepsTest, TruncatedPackReadsAsMissAndIsRemoved) {
  WriteFile(ws("deps/big"), std::string(50000, 'z'));
  WriteFile(ws("deps/small"), "s");
  ASSERT_TRUE(Save("k", "deps").ok());
  fs::resize_file(entry("k") / "pack", 100);  // cuts "big" short
  WriteFile(ws("deps/mine"), "untouched");
  const StepResult restored = Restore("k", "deps");
  ASSERT_TRUE(restored.ok()) << restored.message;
  EXPECT_EQ(restored.outputs["hit"], false);
  // The workspace is as it was: no half-restored tree, no temp dirs.
  EXPECT_EQ(ReadFile(ws("deps/mine")), "untouched");
  EXPECT_EQ(ReadFile(ws("deps/big")).size(), 50000u);
  EXPECT_EQ(std::distance(fs::directory_iterator(harness.workspace()), fs::directory_iterator()), 1);
  EXPECT_NE(harness.log_text().find("broken"), std::string::npos);
  // The broken entry is gone, so the next save under the key works.
  EXPECT_FALSE(fs::exists(entry("k")));
  EXPECT_EQ(Save("k", "deps").outputs["status"], "saved");
}

TEST_F(KeyedStepsTest, PackRewrittenToTheSameSizeReadsAsMiss) {
  WriteFile(ws("deps/f"), "aaaa");
  ASSERT_TRUE(Save("k", "deps").ok());
  WriteFile(entry("k") / "pack", "bbbb");  // same size, new content and time
  EXPECT_EQ(Restore("k", "deps").outputs["hit"], false);
}

TEST_F(KeyedStepsTest, MissingOrAlteredManifestReadsAsMissThenFallsBack) {
  WriteFile(ws("deps/v"), "one");
  ASSERT_TRUE(Save("deps-1", "deps").ok());
  WriteFile(ws("deps/v"), "two");
  ASSERT_TRUE(Save("deps-2", "deps").ok());
  WriteFile(ws("deps/v"), "three");
  ASSERT_TRUE(Save("deps-3", "deps").ok());
  fs::remove(entry("deps-3") / "manifest");
  {
    std::string text = ReadFile(entry("deps-2") / "manifest");
    text.replace(text.find("totals"), 6, "TOTALS");
    WriteFile(entry("deps-2") / "manifest", text);
  }
  const StepResult exact = Restore("deps-3", "deps", {"deps-"});
  ASSERT_TRUE(exact.ok()) << exact.message;
  EXPECT_EQ(exact.outputs["hit"], "prefix");
  EXPECT_EQ(exact.outputs["key"], "deps-1");
  EXPECT_EQ(ReadFile(ws("deps/v")), "one");
}

TEST_F(KeyedStepsTest, MissingPackReadsAsMiss) {
  WriteFile(ws("deps/v"), "one");
  ASSERT_TRUE(Save("k", "deps").ok());
  fs::remove(entry("k") / "pack");
  EXPECT_EQ(Restore("k", "deps").outputs["hit"], false);
}

TEST_F(KeyedStepsTest, ManifestCutShortReadsAsMiss) {
  WriteFile(ws("deps/v"), "one");
  ASSERT_TRUE(Save("k", "deps").ok());
  const std::string text = ReadFile(entry("k") / "manifest");
  WriteFile(entry("k") / "manifest", text.substr(0, text.size() / 2));
  EXPECT_EQ(Restore("k", "deps").outputs["hit"], false);
}

TEST_F(KeyedStepsTest, KeysThatCouldTraverseAreRefused) {
  WriteFile(ws("a/x"), "x");
  for (const std::string& key : std::vector<std::string>{"", "..", ".", "../x", "a/b", "/abs", ".hidden", std::string("nul\0x", 5),
                                std::string(201, 'k'), "new\nline", "sp ace"}) {
    const StepResult saved = Save(key, "a");
    EXPECT_EQ(saved.status, StepResult::Status::terminal) << "key: " << key;
    const StepResult restored = Restore("ok", "a", {key});
    EXPECT_EQ(restored.status, StepResult::Status::terminal) << "restore key: " << key;
  }
  EXPECT_TRUE(Save(std::string(200, 'k'), "a").ok());
  EXPECT_FALSE(fs::exists(harness.build_cache_dir() / "x"));
}

TEST_F(KeyedStepsTest, PathsThatLeaveTheWorkspaceAreRefused) {
  kiln::testing::TempDir outside("kiln-cache-outside");
  WriteFile(outside.path() / "secret", "s");
  fs::create_directory_symlink(outside.path(), ws("escape"));
  WriteFile(ws("inside/x"), "x");
  for (const std::string& path : std::vector<std::string>{"../x", "a/../../x", "/etc", outside.path().string(), "escape", "escape/secret",
                                 "", ".", "inside/..", std::string("a\0b", 3), std::string(5000, 'p'),
                                 harness.workspace().string()}) {
    EXPECT_EQ(Save("k", path).status, StepResult::Status::terminal) << path;
    EXPECT_EQ(Restore("k", path).status, StepResult::Status::terminal) << path;
  }
  EXPECT_EQ(Save("k", {"inside", "inside/x"}).status, StepResult::Status::terminal);
  EXPECT_EQ(ReadFile(outside.path() / "secret"), "s");
}

TEST_F(KeyedStepsTest, RestoreDoesNotFollowASymlinkPlantedAtTheTarget) {
  kiln::testing::TempDir outside("kiln-cache-outside");
  WriteFile(ws("out/x"), "x");
  ASSERT_TRUE(Save("k", "out").ok());
  RemoveTree(ws("out"));
  fs::create_directory_symlink(outside.path(), ws("out"));
  EXPECT_EQ(Restore("k", "out").status, StepResult::Status::terminal);
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

// A link planted at the target that points outside is refused whether or not what it
// points to exists yet: the old check resolved a dangling one as the link's own name, inside,
// and restored over it (issue 21).
TEST_F(KeyedStepsTest, RestoreRefusesADanglingSymlinkOutOfTheWorkspace) {
  kiln::testing::TempDir outside("kiln-cache-outside");
  WriteFile(ws("out/x"), "x");
  ASSERT_TRUE(Save("k", "out").ok());
  RemoveTree(ws("out"));
  fs::create_directory_symlink(outside.path() / "not-yet", ws("out"));
  const StepResult restored = Restore("k", "out");
  EXPECT_EQ(restored.status, StepResult::Status::terminal) << restored.message;
  EXPECT_NE(restored.message.find("'out' is a symlink that points outside the workspace"), std::string::npos)
      << restored.message;
  EXPECT_TRUE(fs::is_symlink(ws("out")));
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST_F(KeyedStepsTest, ConcurrentSavesOfOneKeyLeaveOneWholeEntry) {
  testing::MakeWideTree(ws("deps"), 400, 1000, 'a');
  constexpr int kThreads = 6;
  std::vector<StepResult> results(kThreads);
  std::vector<std::unique_ptr<kiln::testing::StepHarness>> harnesses;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, i, &results] { results[i] = Save("same-key", "deps"); });
  }
  for (auto& t : threads) t.join();
  int saved = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.message;
    saved += r.outputs["status"] == "saved";
  }
  EXPECT_EQ(saved, 1);
  RemoveTree(ws("deps"));
  const StepResult restored = Restore("same-key", "deps");
  EXPECT_EQ(restored.outputs["hit"], "exact");
  EXPECT_EQ(restored.outputs["files"], 400);
  EXPECT_TRUE(fs::is_empty(keyed() / ".tmp"));
}

TEST_F(KeyedStepsTest, ConcurrentProcessesSavingAndRestoringNeverSeeHalfAnEntry) {
  testing::MakeWideTree(ws("deps"), 300, 2000, 'q');
  const std::string expected = DescribeTree(ws("deps"));
  const fs::path cache = harness.build_cache_dir();
  const std::string job_scope = scope();
  const fs::path workspace = harness.workspace();
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: save the key, then restore it into a private dir and compare.
      int code = 0;
      {
        KeyedStore store(cache, job_scope);
        std::vector<WorkspacePath> paths;
        std::string error;
        if (!ResolveWorkspacePaths(workspace, {"deps"}, &paths, &error)) code = 10;
        const SaveOutcome saved = store.Save("proc-key", paths, {});
        if (saved.kind != SaveOutcome::Kind::saved && saved.kind != SaveOutcome::Kind::exists) code = 11;
        const fs::path mine = workspace / ("child" + std::to_string(i));
        fs::create_directories(mine);
        std::vector<WorkspacePath> target = {{"deps", mine / "deps"}};
        const RestoreOutcome restored = store.Restore("proc-key", {}, target, {});
        if (restored.hit != RestoreOutcome::Hit::exact) code = 12;
        if (code == 0 && DescribeTree(mine / "deps") != DescribeTree(workspace / "deps")) code = 13;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_EQ(DescribeTree(ws("deps")), expected);
}

TEST_F(KeyedStepsTest, BadArgumentsAreTerminalAndNamed) {
  const StepResult no_key = Run("save", {{"paths", "a"}});
  EXPECT_EQ(no_key.status, StepResult::Status::terminal);
  EXPECT_NE(no_key.message.find("'key'"), std::string::npos);
  EXPECT_EQ(Run("restore", {{"key", "k"}}).status, StepResult::Status::terminal);
  EXPECT_EQ(Run("restore", {{"key", "k"}, {"paths", {1, 2}}}).status, StepResult::Status::terminal);
  EXPECT_EQ(Run("save", {{"key", "k"}, {"paths", "a"}, {"restore_keys", {"x"}}}).status,
            StepResult::Status::terminal);
  EXPECT_EQ(Run("nope", {}).status, StepResult::Status::terminal);
}

}  // namespace
}  // namespace kiln::cache
