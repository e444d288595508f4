// Nothing is lost: many jobs on two worker processes, a worker killed mid-job, the NATS
// server restarted mid-run.
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

using std::chrono::seconds;

std::string Id(const std::string& prefix, int i) { return prefix + "-" + std::to_string(i); }

TEST_F(WorkerTest, TwoHundredJobsOnTwoWorkersNoneLost) {
  WorkerSettings s;
  s.pool_size = 4;
  WriteConfig(s);
  StartWorker();
  StartWorker();
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) PublishJob(Id("many", i), "noop");
  std::set<std::string> workers;
  for (int i = 0; i < kJobs; ++i) {
    auto state = WaitForStatus(Id("many", i), {"succeeded"}, seconds(120));
    ASSERT_FALSE(state.is_null()) << Id("many", i);
    EXPECT_EQ(state["attempt"], 1);
    workers.insert(state.value("worker", ""));
  }
  for (int i = 0; i < 100 && JobsInQueue() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(JobsInQueue(), 0u);
  EXPECT_EQ(workers.size(), 2u) << "both workers took jobs";
  EXPECT_TRUE(DeadLetters().empty());
  // Each job ran once.
  for (int i : {0, 57, 199}) EXPECT_EQ(Count(Events(Id("many", i)), "job.started"), 1);
}

TEST_F(WorkerTest, AJobOfAKilledWorkerIsFinishedByAnother) {
  auto& first = StartWorker();
  PublishJob("orphan-1", "sleep4");
  auto running = WaitForStatus("orphan-1", {"running"});
  ASSERT_FALSE(running.is_null());
  first.Signal(SIGKILL);
  EXPECT_EQ(first.Wait(seconds(10)), 128 + SIGKILL);
  StartWorker();
  // Redelivered after the ack wait (30 s by default) to the second worker, from the start.
  auto state = WaitForStatus("orphan-1", {"succeeded", "dead", "failed"}, seconds(90));
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["status"], "succeeded");
  EXPECT_EQ(state["attempt"], 2);
  EXPECT_NE(state["worker"], running["worker"]);
  EXPECT_EQ(JobsInQueue(), 0u);
  auto events = Events("orphan-1");
  EXPECT_EQ(Count(events, "job.started"), 2);
  EXPECT_EQ(Count(events, "job.succeeded"), 1);
  EXPECT_EQ(events.back()["type"], "job.succeeded");
}

TEST_F(WorkerTest, NatsServerRestartMidRunLosesNothing) {
  StartWorker();
  constexpr int kJobs = 12;
  for (int i = 0; i < kJobs; ++i) PublishJob(Id("restart", i), "sleep1");
  ASSERT_FALSE(WaitForStatus(Id("restart", 0), {"succeeded"}).is_null());
  server_.Stop();
  std::this_thread::sleep_for(seconds(2));  // jobs keep running; their events wait in the buffer
  server_.Start();
  for (int i = 0; i < kJobs; ++i) {
    auto state = WaitForStatus(Id("restart", i), {"succeeded"}, seconds(120));
    ASSERT_FALSE(state.is_null()) << Id("restart", i);
  }
  for (int i = 0; i < 100 && JobsInQueue() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(JobsInQueue(), 0u);
  EXPECT_TRUE(DeadLetters().empty());
}

}  // namespace
}  // namespace kiln::testing
