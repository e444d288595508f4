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
  EXPECT_EQ(JobsLeftInQueue(), 0u);
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
  EXPECT_EQ(JobsLeftInQueue(), 0u);
  auto events = Events("orphan-1");
  EXPECT_EQ(Count(events, "job.started"), 2);
  EXPECT_EQ(Count(events, "job.succeeded"), 1);
  EXPECT_EQ(events.back()["type"], "job.succeeded");
}

TEST_F(WorkerTest, InProgressAcksKeepALongJobOffOtherWorkers) {
  WorkerSettings s;
  s.ack_wait = "2s";  // the job runs twice as long: only in-progress acks keep it here
  WriteConfig(s);
  StartWorker();
  StartWorker();
  PublishJob("long-1", "sleep4");
  auto state = WaitForStatus("long-1", {"succeeded", "dead", "failed"}, seconds(60));
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["status"], "succeeded");
  EXPECT_EQ(state["attempt"], 1);
  auto events = Events("long-1");
  EXPECT_EQ(Count(events, "job.started"), 1);
  EXPECT_EQ(Count(events, "job.succeeded"), 1);
}

TEST_F(WorkerTest, AMessageThatReachedMaxDeliverWithoutAnAckIsDeadLetteredAndRemoved) {
  WorkerSettings s;
  s.max_retries = 0;  // max deliver 1: the first worker's death uses the only delivery
  s.ack_wait = "2s";
  WriteConfig(s);
  auto& first = StartWorker();
  PublishJob("maxdeliver-1", "sleep60");
  ASSERT_FALSE(WaitForStatus("maxdeliver-1", {"running"}).is_null());
  first.Signal(SIGKILL);
  EXPECT_EQ(first.Wait(seconds(10)), 128 + SIGKILL);
  // The server announces the exhausted message (advisory) to the next worker, which
  // dead-letters it and deletes it from BUILDS, where a work queue would keep it for ever.
  StartWorker();
  auto state = WaitForStatus("maxdeliver-1", {"dead"}, seconds(60));
  ASSERT_FALSE(state.is_null());
  EXPECT_NE(state.value("reason", "").find("max deliveries"), std::string::npos) << state.dump();
  std::vector<DeadLetter> letters;
  for (int i = 0; i < 100 && letters.empty(); ++i) {
    letters = DeadLetters();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].job_id, "maxdeliver-1");
  EXPECT_EQ(nlohmann::json::parse(letters[0].body)["pipeline"], "sleep60");
  EXPECT_EQ(JobsLeftInQueue(), 0u);
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
  EXPECT_EQ(JobsLeftInQueue(), 0u);
  EXPECT_TRUE(DeadLetters().empty());
}

}  // namespace
}  // namespace kiln::testing
