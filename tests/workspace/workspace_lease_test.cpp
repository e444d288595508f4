// Workspaces: held while a job runs, removed on every way a job can end, and swept after a
// process that held one died, but never while a live process (another worker sharing the
// same workspace dir) holds it, and never a directory that is not kiln's.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "workspace/workspace_lease.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A child process that takes the lease of `job_id`, writes a file in it, tells the parent,
// then waits to be killed (SIGKILL: nothing of its own clean-up runs).
pid_t HolderProcess(const std::string& root, const std::string& job_id) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    auto lease = WorkspaceLease::Acquire(root, job_id, milliseconds(0));
    if (!lease) ::_exit(1);
    WriteFile(fs::path(lease.value()->path()) / "half-built", "x");
    (void)!::write(ready[1], "1", 1);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  (void)!::read(ready[0], &c, 1);
  ::close(ready[0]);
  return pid;
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

TEST(WorkspaceLease, CreatesAnEmptyWorkspaceAndRemovesItWithItsLock) {
  TempDir root;
  WriteFile(root / "job-1" / "left-by-an-earlier-attempt", "x");
  {
    auto lease = WorkspaceLease::Acquire(root.str(), "job-1", milliseconds(0));
    ASSERT_TRUE(lease.ok()) << lease.error();
    EXPECT_EQ(lease.value()->path(), (root / "job-1").string());
    EXPECT_EQ(Entries(root / "job-1"), std::vector<std::string>{});
    EXPECT_EQ(Entries(root.path()), (std::vector<std::string>{"job-1", "job-1.kiln-lock"}));
  }
  EXPECT_EQ(Entries(root.path()), std::vector<std::string>{});
}

TEST(WorkspaceLease, KeptWorkspaceStaysAndIsNeverSwept) {
  TempDir root;
  {
    auto lease = WorkspaceLease::Acquire(root.str(), "job-1", milliseconds(0));
    ASSERT_TRUE(lease.ok()) << lease.error();
    lease.value()->keep();
  }
  EXPECT_EQ(Entries(root.path()), std::vector<std::string>{"job-1"});
  EXPECT_EQ(SweepAbandonedWorkspaces(root.str()).removed, 0);
  EXPECT_TRUE(fs::exists(root / "job-1"));
}

TEST(WorkspaceLease, ASecondHolderWaitsThenIsToldItIsBusy) {
  TempDir root;
  auto first = WorkspaceLease::Acquire(root.str(), "job-1", milliseconds(0));
  ASSERT_TRUE(first.ok()) << first.error();
  WriteFile(fs::path(first.value()->path()) / "in-use", "x");
  bool busy = false;
  auto second = WorkspaceLease::Acquire(root.str(), "job-1", milliseconds(300), &busy);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(busy);
  EXPECT_NE(second.error().find("in use by another process"), std::string::npos) << second.error();
  EXPECT_TRUE(fs::exists(root / "job-1" / "in-use")) << "the holder's files were not touched";
}

TEST(WorkspaceLease, TheNextHolderGetsItOnceTheFirstLetsGo) {
  TempDir root;
  auto first = WorkspaceLease::Acquire(root.str(), "job-1", milliseconds(0));
  ASSERT_TRUE(first.ok());
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(200));
    first.value().reset();
  });
  auto second = WorkspaceLease::Acquire(root.str(), "job-1", milliseconds(5000));
  release.join();
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_TRUE(fs::exists(root / "job-1"));
}

TEST(WorkspaceSweep, RemovesWhatAKilledProcessLeft) {
  TempDir root;
  pid_t holder = HolderProcess(root.str(), "job-1");
  ASSERT_GT(holder, 0);
  KillAndReap(holder);
  ASSERT_TRUE(fs::exists(root / "job-1" / "half-built"));
  WorkspaceSweep sweep = SweepAbandonedWorkspaces(root.str());
  EXPECT_EQ(sweep.removed, 1);
  EXPECT_EQ(sweep.in_use, 0);
  EXPECT_EQ(Entries(root.path()), std::vector<std::string>{});
}

TEST(WorkspaceSweep, LeavesAWorkspaceALiveProcessHolds) {
  // Two workers sharing one workspace dir: one restarting must not sweep the other's job.
  TempDir root;
  pid_t holder = HolderProcess(root.str(), "job-live");
  ASSERT_GT(holder, 0);
  WorkspaceSweep sweep = SweepAbandonedWorkspaces(root.str());
  EXPECT_EQ(sweep.removed, 0);
  EXPECT_EQ(sweep.in_use, 1);
  EXPECT_TRUE(fs::exists(root / "job-live" / "half-built"));
  KillAndReap(holder);
  EXPECT_EQ(SweepAbandonedWorkspaces(root.str()).removed, 1);
}

TEST(WorkspaceSweep, NeverTouchesWhatIsNotAKilnWorkspace) {
  TempDir root;
  WriteFile(root / "kept-failed-job" / "file", "x");           // a directory without a lock
  WriteFile(root / "notes.txt", "x");                           // an operator's file
  WriteFile(root / "not.a.job.kiln-lock", "x");                 // not a job id
  WriteFile(root / "..kiln-lock", "x");
  WorkspaceSweep sweep = SweepAbandonedWorkspaces(root.str());
  EXPECT_EQ(sweep.removed, 0);
  EXPECT_EQ(Entries(root.path()),
            (std::vector<std::string>{"..kiln-lock", "kept-failed-job", "not.a.job.kiln-lock", "notes.txt"}));
}

// Every way a job can end leaves neither its workspace nor its lock file behind.
struct ExitPath {
  const char* name;
  const char* script;
  JobStatus status;
  int cancel_after_ms = -1;
  const char* job_timeout = nullptr;
};

class WorkspaceExitPath : public ::testing::TestWithParam<ExitPath> {};

TEST_P(WorkspaceExitPath, LeavesNothingBehind) {
  const ExitPath& path = GetParam();
  PipelineFixture fixture;
  fixture.config.pipelines.script_time_limit = std::chrono::seconds(2);
  fixture.config.pipelines.memory_limit = 16ull * 1024 * 1024;
  if (path.job_timeout != nullptr) fixture.config.worker.timeout = std::chrono::milliseconds(std::stoi(path.job_timeout));
  CancellationToken cancel;
  std::thread canceller;
  if (path.cancel_after_ms >= 0) {
    canceller = std::thread([&] {
      std::this_thread::sleep_for(milliseconds(path.cancel_after_ms));
      cancel.cancel();
    });
  }
  auto run = fixture.run(path.script, &cancel);
  if (canceller.joinable()) canceller.join();
  EXPECT_EQ(run.outcome.status, path.status) << run.outcome.error;
  EXPECT_EQ(Entries(fixture.config.build.workspace_path), std::vector<std::string>{});
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Paths, WorkspaceExitPath, ::testing::Values(
  ExitPath{"success", "kiln.step('w', function() kiln.exec { cmd = { 'touch', 'f' } } end)", JobStatus::succeeded},
  ExitPath{"failure", "kiln.exec { cmd = { 'touch', 'f' } } kiln.fail('x')", JobStatus::failed},
  ExitPath{"lua_error", "kiln.exec { cmd = { 'touch', 'f' } } local x = nil; x.y = 1", JobStatus::failed},
  ExitPath{"memory_limit", "kiln.exec { cmd = { 'touch', 'f' } } local s = 'x' while true do s = s .. s end", JobStatus::failed},
  ExitPath{"step_timeout", "kiln.step('s', { timeout = '200ms' }, function() kiln.exec { cmd = { 'sleep', '30' } } end)",
           JobStatus::failed},
  ExitPath{"cancel", "kiln.step('s', function() kiln.exec { cmd = { 'sh', '-c', 'touch f; sleep 30' } } end)",
           JobStatus::cancelled, 300},
  ExitPath{"job_timeout", "kiln.step('s', function() kiln.exec { cmd = { 'sh', '-c', 'touch f; sleep 30' } } end)",
           JobStatus::timed_out, -1, "300"}),
  [](const ::testing::TestParamInfo<ExitPath>& param_info) { return std::string(param_info.param.name); });
// clang-format on

}  // namespace
}  // namespace kiln::testing
