// The hard paths of a job's life: malformed messages, retries into the dead-letter
// subject, cancel, graceful shutdown.
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

using std::chrono::seconds;

TEST_F(WorkerTest, MalformedMessagesAreDeadLetteredWhileTheWorkerKeepsServing) {
  StartWorker();
  nlohmann::json good = nlohmann::json::parse(JobBody("x", "noop"));
  auto variant = [&](const std::string& id, auto change) {
    nlohmann::json m = good;
    m["id"] = id;
    change(m);
    return m.dump();
  };
  PublishRaw("this is not json {");
  PublishRaw(variant("bad-missing", [](nlohmann::json& m) { m.erase("commit"); }));
  PublishRaw(variant("bad-commit", [](nlohmann::json& m) { m["commit"] = "not-a-sha"; }));
  PublishRaw(variant("bad-ref", [](nlohmann::json& m) { m["branch"] = "feature..x"; }));
  PublishRaw(variant("bad-file", [](nlohmann::json& m) { m["repo"]["url"] = "file:///srv/git/shop.git"; }));
  std::string huge = variant("bad-huge", [](nlohmann::json& m) { m["env"] = {{"PAD", std::string(1000 * 1024, 'a')}}; });
  PublishRaw(huge);
  PublishJob("good-after-bad", "noop");
  ASSERT_FALSE(WaitForStatus("good-after-bad", {"succeeded"}).is_null());

  std::vector<DeadLetter> letters;
  for (int i = 0; i < 100 && letters.size() < 6; ++i) {
    letters = DeadLetters();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(letters.size(), 6u);
  auto reason_of = [&](const std::string& needle) -> const DeadLetter* {
    for (const auto& l : letters) {
      if (l.reason.find(needle) != std::string::npos) return &l;
    }
    return nullptr;
  };
  EXPECT_NE(reason_of("message: not valid JSON"), nullptr);
  EXPECT_NE(reason_of("commit: missing"), nullptr);
  EXPECT_NE(reason_of("commit: must be 40 or 64"), nullptr);
  EXPECT_NE(reason_of("branch: not a valid branch name"), nullptr);
  EXPECT_NE(reason_of("repo.url: file:// URLs are not allowed"), nullptr);
  const DeadLetter* big = reason_of("larger than the limit of 65536");
  ASSERT_NE(big, nullptr);
  EXPECT_GT(big->body.size(), 1000u * 1024 - 8 * 1024);  // the original, or most of it
  // The original message is kept byte for byte.
  const DeadLetter* not_json = reason_of("not valid JSON");
  EXPECT_EQ(not_json->body, "this is not json {");
  for (const auto& l : letters) EXPECT_EQ(l.reason.rfind("invalid message: ", 0), 0u) << l.reason;
  // All acked: nothing left in the work queue.
  EXPECT_EQ(JobsLeftInQueue(), 0u);
  // A bad message with a usable id shows in its state.
  auto state = WaitForStatus("bad-commit", {"dead"});
  ASSERT_FALSE(state.is_null());
  EXPECT_NE(state.value("reason", "").find("commit:"), std::string::npos);
}

TEST_F(WorkerTest, RetryableFailuresAreRetriedWithDelayThenDeadLettered) {
  StartWorker();  // max_retries 2 -> 3 attempts, delays ~1s and ~2s
  PublishJob("flaky-1", "flaky");
  auto state = WaitForStatus("flaky-1", {"dead"}, seconds(60));
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["attempt"], 3);
  EXPECT_EQ(state["reason"], "failed after 3 attempts");
  auto events = Events("flaky-1");
  EXPECT_EQ(Count(events, "job.started"), 3);
  int will_retry = 0;
  for (const auto& e : events) will_retry += e.value("will_retry", false) ? 1 : 0;
  EXPECT_EQ(will_retry, 2);
  EXPECT_EQ(events.back()["type"], "job.dead");
  std::vector<DeadLetter> letters;
  for (int i = 0; i < 50 && letters.empty(); ++i) {
    letters = DeadLetters();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].job_id, "flaky-1");
  EXPECT_EQ(letters[0].attempts, 3);
  EXPECT_EQ(letters[0].reason, "failed after 3 attempts");
  EXPECT_NE(letters[0].error.find("x"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(letters[0].body)["id"], "flaky-1");
  EXPECT_EQ(JobsLeftInQueue(), 0u);

  // kiln dlq list shows it; replay runs it again (and it dies again, with a new letter).
  std::string out;
  EXPECT_EQ(RunKiln("dlq list", &out), 0) << out;
  EXPECT_NE(out.find("flaky-1"), std::string::npos) << out;
  EXPECT_EQ(RunKiln("dlq replay flaky-1", &out), 0) << out;
  ASSERT_FALSE(WaitForStatus("flaky-1", {"running", "retrying"}, seconds(30)).is_null());
  ASSERT_FALSE(WaitForStatus("flaky-1", {"dead"}, seconds(60)).is_null());
}

TEST_F(WorkerTest, TerminalFailureIsDeadLetteredAtOnce) {
  StartWorker();
  PublishJob("broken-1", "broken");
  auto state = WaitForStatus("broken-1", {"dead"});
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["attempt"], 1);
  EXPECT_EQ(state["reason"], "terminal failure");
  EXPECT_NE(state.value("error", "").find("broken on purpose"), std::string::npos) << state.dump();
  std::vector<DeadLetter> letters;
  for (int i = 0; i < 50 && letters.empty(); ++i) {
    letters = DeadLetters();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].attempts, 1);
  EXPECT_EQ(JobsLeftInQueue(), 0u);
}

TEST_F(WorkerTest, CancelStopsARunningJob) {
  StartWorker();
  PublishJob("cancel-1", "sleep60");
  ASSERT_FALSE(WaitForStatus("cancel-1", {"running"}).is_null());
  // Let the step's process start.
  for (int i = 0; i < 50; ++i) {
    auto s = State("cancel-1");
    if (s && !s->state["steps"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string out;
  auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(RunKiln("cancel cancel-1", &out), 0) << out;
  auto state = WaitForStatus("cancel-1", {"cancelled", "failed", "dead", "succeeded"});
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["status"], "cancelled");
  // Far below the 60 s the step would take. The 2 s goal is measured, not asserted: the time
  // from `kiln cancel` to the cancelled state (state polled every 100 ms) goes to the log.
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked);
  RecordProperty("cancel_to_cancelled_state_ms", static_cast<int>(took.count()));
  std::cout << "kiln cancel -> state cancelled: " << took.count() << " ms\n";
  EXPECT_LT(took, seconds(30));
  EXPECT_EQ(Events("cancel-1").back()["type"], "job.cancelled");
  EXPECT_EQ(JobsLeftInQueue(), 0u);
}

TEST_F(WorkerTest, CancelOfAQueuedJobMeansItNeverRuns) {
  PublishJob("cancel-queued", "noop");
  std::string out;
  // No worker runs: the state was written by nobody yet; submit writes it, a raw publish does not.
  EXPECT_EQ(RunKiln("cancel cancel-queued", &out), 2) << out;
  EXPECT_EQ(RunKiln(std::string("submit --repo https://example.invalid/a/b.git --commit ") + kCommit +
                        " --pipeline noop --id cancel-q2",
                    &out),
            0)
      << out;
  EXPECT_EQ(RunKiln("cancel cancel-q2", &out), 0) << out;
  EXPECT_NE(out.find("before it ran"), std::string::npos) << out;
  StartWorker();
  ASSERT_FALSE(WaitForStatus("cancel-queued", {"succeeded"}).is_null());
  EXPECT_EQ(JobsLeftInQueue(), 0u);
  EXPECT_EQ(State("cancel-q2")->state["status"], "cancelled");
  EXPECT_EQ(Count(Events("cancel-q2"), "job.started"), 0);
}

TEST_F(WorkerTest, GracefulShutdownLetsAShortJobFinish) {
  auto& worker = StartWorker();  // grace 10 s
  PublishJob("graceful-1", "sleep1");
  ASSERT_FALSE(WaitForStatus("graceful-1", {"running"}).is_null());
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(std::chrono::seconds(30)), 0);
  EXPECT_EQ(State("graceful-1")->state["status"], "succeeded");
  EXPECT_EQ(JobsLeftInQueue(), 0u);
}

TEST_F(WorkerTest, ShutdownAfterGraceHandsTheJobBackForRedelivery) {
  WorkerSettings s;
  s.shutdown_grace = "1s";
  WriteConfig(s);
  auto& worker = StartWorker();
  PublishJob("handback-1", "sleep4");
  ASSERT_FALSE(WaitForStatus("handback-1", {"running"}).is_null());
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(std::chrono::seconds(30)), 0);
  auto state = State("handback-1");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->state["status"], "queued") << state->state.dump();
  EXPECT_EQ(JobsInQueue(), 1u);
  // Nak'ed without delay: the next worker runs it again from the start at once.
  StartWorker();
  auto done = WaitForStatus("handback-1", {"succeeded"}, seconds(60));
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["attempt"], 2);
}

TEST_F(WorkerTest, AJobsWorkspaceIsGoneOnceItsResultIsPublished) {
  // The runner moves the workspace aside (instantly) and the worker removes it after the
  // terminal event is out, so a big tree never delays job.succeeded; nothing is left.
  WritePipeline("tree", "kiln.step(\"tree\", function() kiln.exec{ cmd = { \"mkdir\", \"-p\", \"a/b/c\" } } end)\n");
  StartWorker();
  PublishJob("workspace-1", "tree");
  ASSERT_FALSE(WaitForStatus("workspace-1", {"succeeded"}).is_null());
  const std::filesystem::path workspaces = dir_.path() / "work" / "ws";
  bool empty = false;
  for (int i = 0; i < 100 && !empty; ++i) {
    std::error_code ec;
    empty = std::filesystem::is_empty(workspaces, ec) && !ec;
    if (!empty) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string left;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(workspaces, ec)) left += " " + entry.path().filename().string();
  EXPECT_TRUE(empty) << "left in " << workspaces << ":" << left;
}

}  // namespace
}  // namespace kiln::testing
