// A step may leave a mount in its workspace (the cache plugin's overlays). Removing the
// workspace detaches it first: a recursive remove would otherwise delete what the mount
// shows, which for a bind mount is a directory outside the workspace.
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "workspace/mounts_under.hpp"
#include "workspace/workspace_lease.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Bind-mounts `source` at `target` (made), or says why the test cannot run here.
bool BindMount(const fs::path& source, const fs::path& target, std::string* why) {
  fs::create_directories(target);
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0) return true;
  *why = std::string("mount(2) refused here (") + std::strerror(errno) + "): needs root";
  return false;
}

TEST(WorkspaceMounts, RemovingAWorkspaceDetachesABindMountAndLeavesItsSourceAlone) {
  TempDir root, outside{"kiln-outside"};
  WriteFile(outside.path() / "precious", "not the job's");
  std::string workspace;
  {
    auto lease = WorkspaceLease::Acquire(root.path().string(), "job-1", milliseconds(0));
    ASSERT_TRUE(lease) << lease.error();
    workspace = lease.value()->path();
    std::string why;
    if (!BindMount(outside.path(), fs::path(workspace) / "deep" / "mnt", &why)) GTEST_SKIP() << why;
    ASSERT_EQ(MountsUnder(workspace).size(), 1u);
  }
  EXPECT_FALSE(fs::exists(workspace));
  EXPECT_TRUE(MountsUnder(workspace).empty());
  EXPECT_EQ(ReadFile(outside.path() / "precious"), "not the job's");
}

TEST(WorkspaceMounts, TheSweepDetachesWhatAKilledWorkerLeftMounted) {
  TempDir root, outside{"kiln-outside"};
  WriteFile(outside.path() / "precious", "x");
  const fs::path workspace = root.path() / "job-2";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    auto lease = WorkspaceLease::Acquire(root.path().string(), "job-2", milliseconds(0));
    (void)!::write(ready[1], lease ? "1" : "0", 1);
    while (true) ::pause();
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, '1');
  std::string why;
  const bool mounted = BindMount(outside.path(), workspace / "mnt", &why);
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  if (!mounted) GTEST_SKIP() << why;

  const WorkspaceSweep sweep = SweepAbandonedWorkspaces(root.path().string());
  EXPECT_EQ(sweep.removed, 1);
  EXPECT_EQ(sweep.failed, 0);
  EXPECT_FALSE(fs::exists(workspace));
  EXPECT_TRUE(MountsUnder(workspace.string()).empty());
  EXPECT_EQ(ReadFile(outside.path() / "precious"), "x");
}

TEST(WorkspaceMounts, MountsUnderFindsNestedMountsDeepestFirstAndNotItsNeighbours) {
  TempDir root, outside{"kiln-outside"};
  const fs::path dir = root.path() / "a dir";  // mountinfo writes the space as \040
  std::string why;
  if (!BindMount(outside.path(), dir / "outer", &why)) GTEST_SKIP() << why;
  fs::create_directories(outside.path() / "inner");
  ASSERT_TRUE(BindMount(outside.path(), dir / "outer" / "inner", &why)) << why;
  ASSERT_TRUE(BindMount(outside.path(), root.path() / "a dir2", &why)) << why;  // a neighbour sharing the prefix

  const std::vector<std::string> mounts = MountsUnder(dir.string());
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0], (dir / "outer" / "inner").string());
  EXPECT_EQ(mounts[1], (dir / "outer").string());

  EXPECT_EQ(UnmountEverythingUnder(dir.string()), "");
  EXPECT_TRUE(MountsUnder(dir.string()).empty());
  EXPECT_EQ(MountsUnder((root.path() / "a dir2").string()).size(), 1u);  // left alone
}

}  // namespace
}  // namespace kiln::testing
