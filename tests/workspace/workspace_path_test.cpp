// kiln/workspace_path.hpp: a path resolved beneath a root on real files, with every way out
// a job's tree can offer (issue 21: the one check that replaced five copies).
#include "kiln/workspace_path.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;
using workspace_path::Resolve;

class WorkspacePathTest : public ::testing::Test {
 protected:
  WorkspacePathTest() {
    fs::create_directories(root_ / "src" / "lib");
    WriteFile(root_ / "src" / "lib" / "a.txt", "a");
    WriteFile(outside_ / "secret", "s");
  }
  // The real paths, as Resolve answers (TMPDIR may itself lie behind a link).
  fs::path Real(const fs::path& relative = {}) const {
    return relative.empty() ? fs::canonical(root_) : fs::canonical(root_) / relative;
  }
  std::string ErrorOf(const std::string& path) const { return Resolve(root_, path).error; }

  TempDir dir_{"kiln-workspace-path"};
  fs::path root_ = dir_.path() / "work";
  fs::path outside_ = dir_.path() / "outside";
};

TEST_F(WorkspacePathTest, APlainPathInsideResolvesBeneathTheRoot) {
  auto resolved = Resolve(root_, "src/lib/a.txt");
  ASSERT_TRUE(resolved) << resolved.error;
  EXPECT_EQ(resolved.path, Real("src/lib/a.txt"));
  EXPECT_EQ(resolved.beneath, fs::path("src/lib/a.txt"));
  EXPECT_FALSE(resolved.is_root());
  // "." and ".." that stay inside are walked, not refused.
  auto climbing = Resolve(root_, "./src/lib/../lib//a.txt");
  ASSERT_TRUE(climbing) << climbing.error;
  EXPECT_EQ(climbing.path, Real("src/lib/a.txt"));
}

TEST_F(WorkspacePathTest, DotDotAboveTheRootLeavesIt) {
  for (const std::string path : {"..", "../outside/secret", "src/../../outside", "src/lib/../../.."}) {
    EXPECT_EQ(ErrorOf(path), "'" + path + "' leaves the workspace") << path;
  }
  // The name of the root in the message is the caller's.
  EXPECT_EQ(Resolve(root_, "../x", "the build context").error, "'../x' leaves the build context");
}

TEST_F(WorkspacePathTest, AnAbsolutePathIsTakenOnlyUnderTheRoot) {
  auto spelled = Resolve(root_, (root_ / "src" / "lib").string());  // as the caller spells the root
  ASSERT_TRUE(spelled) << spelled.error;
  EXPECT_EQ(spelled.path, Real("src/lib"));
  auto real = Resolve(root_, Real("src").string());  // or as it really is
  ASSERT_TRUE(real) << real.error;
  EXPECT_EQ(real.beneath, fs::path("src"));

  EXPECT_EQ(ErrorOf("/etc/passwd"), "'/etc/passwd' is outside the workspace");
  const std::string secret = (outside_ / "secret").string();
  EXPECT_EQ(ErrorOf(secret), "'" + secret + "' is outside the workspace");
  // A sibling whose name merely begins with the root's is not under it.
  fs::create_directories(dir_.path() / "work-evil");
  const std::string sibling = (dir_.path() / "work-evil").string();
  EXPECT_EQ(ErrorOf(sibling), "'" + sibling + "' is outside the workspace");
  // Nor is a path that climbs out after naming the root.
  EXPECT_FALSE(Resolve(root_, (root_ / ".." / "outside").string()));
}

TEST_F(WorkspacePathTest, ASymlinkThatStaysInsideIsFollowed) {
  fs::create_directory_symlink("src/lib", root_ / "relative-lib");
  fs::create_directory_symlink(root_ / "src", root_ / "absolute-src");  // absolute, into the root
  fs::create_symlink("../lib/a.txt", root_ / "src" / "lib" / "up");     // ".." that stays inside
  auto relative = Resolve(root_, "relative-lib/a.txt");
  ASSERT_TRUE(relative) << relative.error;
  EXPECT_EQ(relative.path, Real("src/lib/a.txt"));
  auto absolute = Resolve(root_, "absolute-src/lib");
  ASSERT_TRUE(absolute) << absolute.error;
  EXPECT_EQ(absolute.beneath, fs::path("src/lib"));
  auto up = Resolve(root_, "src/lib/up");
  ASSERT_TRUE(up) << up.error;
  EXPECT_EQ(up.path, Real("src/lib/a.txt"));
  // ".." after a link climbs from where the link leads, as the kernel does.
  auto after = Resolve(root_, "relative-lib/../lib/a.txt");
  ASSERT_TRUE(after) << after.error;
  EXPECT_EQ(after.path, Real("src/lib/a.txt"));
}

TEST_F(WorkspacePathTest, ASymlinkThatPointsOutsideIsRefusedWhateverItsTarget) {
  fs::create_directory_symlink(outside_, root_ / "absolute-out");
  fs::create_directory_symlink("../outside", root_ / "relative-out");
  fs::create_directory_symlink("../../../outside", root_ / "src" / "lib" / "deep-out");
  fs::create_directory_symlink("/", root_ / "slash");
  EXPECT_EQ(ErrorOf("absolute-out/secret"), "'absolute-out/secret': 'absolute-out' is a symlink that points outside "
                                            "the workspace (to '" + outside_.string() + "')");
  EXPECT_EQ(ErrorOf("relative-out"),
            "'relative-out': 'relative-out' is a symlink that points outside the workspace (to '../outside')");
  EXPECT_EQ(ErrorOf("src/lib/deep-out/secret"), "'src/lib/deep-out/secret': 'src/lib/deep-out' is a symlink that "
                                                "points outside the workspace (to '../../../outside')");
  EXPECT_EQ(ErrorOf("slash/etc"), "'slash/etc': 'slash' is a symlink that points outside the workspace (to '/')");
  // Also when the path only passes through it and comes back by "..".
  EXPECT_FALSE(Resolve(root_, "absolute-out/../work/src"));
  // A link to a sibling whose name begins with the root's is outside (a string prefix is not).
  fs::create_directories(dir_.path() / "work-evil");
  fs::create_directory_symlink(dir_.path() / "work-evil", root_ / "sibling");
  EXPECT_NE(ErrorOf("sibling").find("'sibling' is a symlink that points outside"), std::string::npos);
}

TEST_F(WorkspacePathTest, AChainOfSymlinksIsFollowedToItsEndAndJudgedThere) {
  fs::create_directory_symlink("src", root_ / "one");
  fs::create_directory_symlink("one/lib", root_ / "two");
  fs::create_symlink("two/a.txt", root_ / "three");
  auto inside = Resolve(root_, "three");
  ASSERT_TRUE(inside) << inside.error;
  EXPECT_EQ(inside.path, Real("src/lib/a.txt"));

  fs::create_directory_symlink(outside_, root_ / "src" / "lib" / "out");
  fs::create_directory_symlink("two/out", root_ / "via");
  EXPECT_EQ(ErrorOf("via/secret"), "'via/secret': 'src/lib/out' is a symlink that points outside the workspace (to '" +
                                       outside_.string() + "')");

  fs::create_symlink("loop-b", root_ / "loop-a");
  fs::create_symlink("loop-a", root_ / "loop-b");
  EXPECT_NE(ErrorOf("loop-a").find("too many levels of symbolic links"), std::string::npos) << ErrorOf("loop-a");
}

TEST_F(WorkspacePathTest, ADanglingSymlinkIsJudgedByWhereItWouldLead) {
  // A caller that creates the path would create it where the link leads.
  fs::create_symlink("src/not-yet", root_ / "dangling-in");
  auto inside = Resolve(root_, "dangling-in/file");
  ASSERT_TRUE(inside) << inside.error;
  EXPECT_EQ(inside.path, Real("src") / "not-yet" / "file");
  fs::create_symlink(outside_ / "not-yet", root_ / "dangling-out");
  EXPECT_NE(ErrorOf("dangling-out").find("'dangling-out' is a symlink that points outside"), std::string::npos);
  EXPECT_NE(ErrorOf("dangling-out/x/y").find("points outside"), std::string::npos);
}

TEST_F(WorkspacePathTest, ATailThatDoesNotExistYetIsKeptAsWritten) {
  auto created = Resolve(root_, "src/new/dir/file");
  ASSERT_TRUE(created) << created.error;
  EXPECT_EQ(created.path, Real("src") / "new" / "dir" / "file");
  EXPECT_EQ(ErrorOf("nope/../../x"), "'nope/../../x' leaves the workspace");
  // Climbing out of the missing part back into what exists walks what exists again.
  fs::create_directory_symlink(outside_, root_ / "out");
  EXPECT_NE(ErrorOf("nope/../out/x").find("'out' is a symlink that points outside"), std::string::npos);
  // Below a file nothing exists.
  auto below_file = Resolve(root_, "src/lib/a.txt/x");
  ASSERT_TRUE(below_file) << below_file.error;
  EXPECT_EQ(below_file.path, Real("src/lib/a.txt/x"));
}

TEST_F(WorkspacePathTest, TheRootItselfResolvesToItsRealPath) {
  for (const std::string& path : std::vector<std::string>{".", "./", "src/..", root_.string(), root_.string() + "/"}) {
    auto resolved = Resolve(root_, path);
    ASSERT_TRUE(resolved) << path << ": " << resolved.error;
    EXPECT_TRUE(resolved.is_root()) << path;
    EXPECT_EQ(resolved.path, Real()) << path;
  }
  // The root as given may itself lie behind a link: that is the caller's to trust.
  fs::create_directory_symlink(root_, dir_.path() / "alias");
  auto through_alias = Resolve(dir_.path() / "alias", "src/lib");
  ASSERT_TRUE(through_alias) << through_alias.error;
  EXPECT_EQ(through_alias.path, Real("src/lib"));
}

TEST_F(WorkspacePathTest, AnEmptyPathOrANulByteIsRefused) {
  EXPECT_EQ(ErrorOf(""), "the path is empty");
  EXPECT_EQ(Resolve(root_, std::string("src\0/x", 6)).error, "'src\\x00/x' contains a NUL byte");
  EXPECT_TRUE(Resolve(root_, "").path.empty());
}

}  // namespace
}  // namespace kiln::testing
