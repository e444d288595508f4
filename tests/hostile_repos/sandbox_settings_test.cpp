// The sandbox is on unless the config turns it off, which the worker says at every start;
// a sandbox that cannot work stops the worker from starting instead of failing every job.
#include <fstream>
#include <sstream>

#include "hostile_repos/hostile_repo_fixture.hpp"

namespace kiln::testing {
namespace {

bool LogSays(const KilnProcess& worker, const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(worker.log());
    std::stringstream said;
    said << in.rdbuf();
    if (said.str().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_F(HostileRepoTest, TurningTheSandboxOffIsWarnedAtStart) {
  WriteHostileConfig("sandbox: { enabled: false }\n");
  auto& worker = StartWorker();
  EXPECT_TRUE(LogSays(worker, "sandbox.enabled is false", std::chrono::seconds(20))) << ReadFile(worker.log());
  auto run = Attack("sandbox-off", {{"attack.sh", "echo uid=$(id -u)\n"}});
  ExpectSaid(run, "uid=0");  // the point of the warning: the repository's code ran as root
}

TEST_F(HostileRepoTest, TheSandboxIsOnByDefault) {
  StartWorker();
  auto run = Attack("sandbox-default", {{"attack.sh", "echo uid=$(id -u)\n"}});
  ExpectSaid(run, "uid=61000");
}

TEST_F(HostileRepoTest, AWorkerWhoseSandboxCannotWorkDoesNotStart) {
  WriteHostileConfig("sandbox: { bwrap: /nonexistent/bwrap }\n");
  auto& worker = StartWorker();
  EXPECT_EQ(worker.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(ReadFile(worker.log()).find("sandbox.bwrap"), std::string::npos) << ReadFile(worker.log());
}

TEST_F(HostileRepoTest, AnUnknownNetworkIsAnErrorThatNamesIt) {
  StartWorker();
  auto run = Attack("bad-network", {{"attack.sh", "true\n"}}, "attack", {{"NETWORK", "host"}});
  EXPECT_NE(status(run), "succeeded") << run.said;  // terminal: failed, and dead-lettered
  ExpectSaid(run, "kiln.exec: network must be \\\"none\\\" or \\\"egress\\\", got \\\"host\\\"");
}

}  // namespace
}  // namespace kiln::testing
