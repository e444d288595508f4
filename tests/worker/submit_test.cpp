// kiln submit --wait against a real worker; status, list; duplicates run once.
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

using std::chrono::seconds;

TEST_F(WorkerTest, SubmitAndWaitFollowsTheJobToSuccess) {
  StartWorker();
  std::string out;
  int code = RunKiln(std::string("submit --repo https://example.invalid/acme/shop.git --commit ") + kCommit +
                         " --branch main --pipeline noop --id submit-1 --wait",
                     &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.rfind("submit-1\n", 0), 0u) << out;
  EXPECT_NE(out.find("succeeded"), std::string::npos) << out;

  auto state = WaitForStatus("submit-1", {"succeeded"});
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["repo"]["url"], "https://example.invalid/acme/shop.git");
  EXPECT_EQ(state["commit"], kCommit);
  EXPECT_EQ(state["attempt"], 1);
  ASSERT_EQ(state["steps"].size(), 1u);
  EXPECT_EQ(state["steps"][0]["name"], "noop");
  EXPECT_EQ(state["steps"][0]["status"], "ok");
  EXPECT_EQ(state["steps"][0]["attempts"], 1);
  EXPECT_TRUE(state.contains("finished_at"));

  // The events: queued first, one terminal last, seq increasing by one.
  auto events = Events("submit-1");
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front()["type"], "job.queued");
  EXPECT_EQ(events.back()["type"], "job.succeeded");
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["seq"].get<int>(), events[i - 1]["seq"].get<int>() + 1) << events[i].dump();
  }

  EXPECT_EQ(RunKiln("status submit-1", &out), 0) << out;
  EXPECT_NE(out.find("succeeded"), std::string::npos) << out;
  EXPECT_EQ(RunKiln("list --limit 5", &out), 0) << out;
  EXPECT_NE(out.find("submit-1"), std::string::npos) << out;
  EXPECT_EQ(RunKiln("status no-such-job", &out), 2) << out;
}

TEST_F(WorkerTest, SubmitRejectsBadInputWithExitCode2) {
  std::string out;
  EXPECT_EQ(RunKiln("submit --repo https://example.invalid/a/b.git --commit 123", &out), 2);
  EXPECT_NE(out.find("commit:"), std::string::npos) << out;
  EXPECT_EQ(RunKiln(std::string("submit --repo file:///srv/a --commit ") + kCommit, &out), 2);
  EXPECT_NE(out.find("repo.url:"), std::string::npos) << out;
}

TEST_F(WorkerTest, SubmitWaitExitsOneWhenTheJobFails) {
  StartWorker();
  std::string out;
  int code = RunKiln(std::string("submit --repo https://example.invalid/acme/shop.git --commit ") + kCommit +
                         " --pipeline broken --wait",
                     &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("broken on purpose"), std::string::npos) << out;
}

TEST_F(WorkerTest, DuplicateIdRunsOnce) {
  StartWorker();
  // Within the duplicate window JetStream drops the repeat itself ...
  PublishJob("dup-1", "sleep1");
  PublishJob("dup-1", "sleep1");
  ASSERT_FALSE(WaitForStatus("dup-1", {"succeeded"}).is_null());
  // ... and after it (a new message id), the KV state says it already succeeded.
  PublishJob("dup-1", "sleep1", "dup-1-again");
  PublishJob("marker", "noop");
  ASSERT_FALSE(WaitForStatus("marker", {"succeeded"}).is_null());
  EXPECT_EQ(JobsLeftInQueue(), 0u);
  auto events = Events("dup-1");
  EXPECT_EQ(Count(events, "job.started"), 1);
  EXPECT_EQ(Count(events, "job.succeeded"), 1);
}

}  // namespace
}  // namespace kiln::testing
