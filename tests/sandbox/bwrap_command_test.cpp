// The bubblewrap command line as data: what is shown, hidden and writable, decided in one
// place. (sandboxed_run_test.cpp proves the same on real bwrap.)
#include <algorithm>

#include <gtest/gtest.h>

#include "sandbox/bwrap_command.hpp"
#include "support/temp_dir.hpp"

namespace kiln {
namespace {

using testing::TempDir;
using testing::WriteFile;

bool HasSequence(const std::vector<std::string>& argv, const std::vector<std::string>& items) {
  return std::search(argv.begin(), argv.end(), items.begin(), items.end()) != argv.end();
}

SandboxedCommand Command(const std::string& workspace) {
  SandboxedCommand command;
  command.workspace = workspace;
  command.tmp_dir = workspace + "/.kiln-tmp";
  command.cwd = workspace + "/src";
  command.executable = "/usr/bin/npm";
  command.argv = {"npm", "ci", "--ignore-scripts=false"};
  return command;
}

SandboxPolicy Policy() {
  SandboxPolicy policy;
  policy.bwrap = "/usr/bin/bwrap";
  policy.uid = 61000;
  policy.gid = 61001;
  return policy;
}

TEST(BwrapCommand, EveryNamespaceAsTheSandboxUidWithARootThatIsReadOnly) {
  auto argv = BwrapArgv(Policy(), Command("/w/job"));
  EXPECT_EQ(argv.front(), "/usr/bin/bwrap");
  EXPECT_TRUE(HasSequence(argv, {"--unshare-all", "--unshare-user", "--disable-userns"}));
  EXPECT_TRUE(HasSequence(argv, {"--uid", "61000", "--gid", "61001"}));
  EXPECT_TRUE(HasSequence(argv, {"--die-with-parent", "--new-session"}));
  EXPECT_TRUE(HasSequence(argv, {"--ro-bind", "/usr", "/usr"}));
  EXPECT_TRUE(HasSequence(argv, {"--ro-bind", "/etc", "/etc"}));
  EXPECT_TRUE(HasSequence(argv, {"--proc", "/proc", "--dev", "/dev"}));
  EXPECT_TRUE(HasSequence(argv, {"--bind", "/w/job", "/w/job"}));
  EXPECT_TRUE(HasSequence(argv, {"--bind", "/w/job/.kiln-tmp", "/tmp"}));
  EXPECT_TRUE(HasSequence(argv, {"--remount-ro", "/"}));
  EXPECT_TRUE(HasSequence(argv, {"--chdir", "/w/job/src", "--", "/usr/bin/npm", "ci", "--ignore-scripts=false"}));
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--share-net"), 0);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--info-fd"), 0);
}

TEST(BwrapCommand, MountsAreWritableOnlyWhenAsked) {
  SandboxedCommand command = Command("/w/job");
  command.mounts = {{"/cache/repo/nx", true}, {"/opt/tool", false}};
  auto argv = BwrapArgv(Policy(), command);
  EXPECT_TRUE(HasSequence(argv, {"--bind", "/cache/repo/nx", "/cache/repo/nx"}));
  EXPECT_TRUE(HasSequence(argv, {"--ro-bind", "/opt/tool", "/opt/tool"}));
}

TEST(BwrapCommand, PrivatePathsAreHiddenWhereTheyWouldBeVisible) {
  TempDir shown("kiln-bwrap-shown");
  WriteFile(shown / "config.yaml", "x");
  WriteFile(shown / "secrets" / "token", "x");
  SandboxPolicy policy = Policy();
  policy.read_only_paths = {shown.str()};
  policy.private_paths = {(shown / "config.yaml").string(), (shown / "secrets").string(), "/nowhere/visible",
                          "/etc/definitely-not-there"};
  auto argv = BwrapArgv(policy, Command("/w/job"));
  EXPECT_TRUE(HasSequence(argv, {"--ro-bind", "/dev/null", (shown / "config.yaml").string()}));
  EXPECT_TRUE(HasSequence(argv, {"--tmpfs", (shown / "secrets").string(), "--remount-ro", (shown / "secrets").string()}));
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "/nowhere/visible"), 0);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "/etc/definitely-not-there"), 0);
  // Hidden after the binds that would show them, before the root goes read-only.
  const auto bind = std::find(argv.begin(), argv.end(), shown.str());
  const auto hide = std::find(argv.begin(), argv.end(), (shown / "config.yaml").string());
  const std::vector<std::string> root_read_only = {"--remount-ro", "/"};
  const auto read_only = std::search(argv.begin(), argv.end(), root_read_only.begin(), root_read_only.end());
  EXPECT_LT(bind, hide);
  EXPECT_LT(hide, read_only);
}

TEST(BwrapCommand, EgressWaitsForItsNetwork) {
  SandboxedCommand command = Command("/w/job");
  command.info_fd = 7;
  command.block_fd = 8;
  auto argv = BwrapArgv(Policy(), command);
  EXPECT_TRUE(HasSequence(argv, {"--info-fd", "7", "--block-fd", "8"}));
}

TEST(BwrapCommand, DirectoriesAboveAWorkspaceUnderTmpAreReadOnly) {
  auto argv = BwrapArgv(Policy(), Command("/tmp/kiln-test-1/work/job"));
  const std::vector<std::string> tmp = {"--bind", "/tmp/kiln-test-1/work/job/.kiln-tmp", "/tmp"};
  const std::vector<std::string> parents = {"--tmpfs", "/tmp/kiln-test-1"};
  const std::vector<std::string> workspace = {"--bind", "/tmp/kiln-test-1/work/job", "/tmp/kiln-test-1/work/job"};
  const std::vector<std::string> read_only = {"--remount-ro", "/tmp/kiln-test-1"};
  auto at = [&](const std::vector<std::string>& items) {
    return std::search(argv.begin(), argv.end(), items.begin(), items.end());
  };
  ASSERT_NE(at(parents), argv.end());
  EXPECT_LT(at(tmp), at(parents));
  EXPECT_LT(at(parents), at(workspace));
  EXPECT_LT(at(workspace), at(read_only));
  EXPECT_EQ(at({"--tmpfs", "/var/tmp/x"}), argv.end());
}

TEST(BwrapCommand, IsWithinComparesWholeComponents) {
  EXPECT_TRUE(IsWithin("/w/job", "/w/job"));
  EXPECT_TRUE(IsWithin("/w/job/src", "/w/job"));
  EXPECT_FALSE(IsWithin("/w/job-2", "/w/job"));
  EXPECT_FALSE(IsWithin("/w", "/w/job"));
}

}  // namespace
}  // namespace kiln
