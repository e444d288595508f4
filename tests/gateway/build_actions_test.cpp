// POST /builds/{id}/cancel and /replay on a real `kiln gateway`, with real workers and
// nats-server: what `kiln cancel` and `kiln dlq replay` do, behind the bearer token.
#include "gateway_fixture.hpp"
#include "support/contains.hpp"

namespace kiln::testing {
namespace {

class BuildActionsTest : public GatewayTest {
 protected:
  httplib::Result Action(const std::string& id, const std::string& action, const std::string& token = kApiToken) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Client().Post("/builds/" + id + "/" + action, headers, "", "application/json");
  }
  httplib::Result Cancel(const std::string& id, const std::string& token = kApiToken) {
    return Action(id, "cancel", token);
  }
};

TEST_F(BuildActionsTest, ARunningBuildIsStoppedByItsWorker) {
  StartGateway();
  StartWorker();
  PublishJob("api-cancel-1", "sleep60");
  ASSERT_FALSE(WaitForStatus("api-cancel-1", {"running"}).is_null());

  auto none = Cancel("api-cancel-1", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401) << none->body;
  EXPECT_EQ(State("api-cancel-1")->state["status"], "running") << "a refused request cancels nothing";

  auto res = Cancel("api-cancel-1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(Json(res).value("cancel", ""), "requested") << res->body;
  auto state = WaitForStatus("api-cancel-1", {"cancelled", "failed", "dead", "succeeded"});
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["status"], "cancelled");

  auto again = Cancel("api-cancel-1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
  EXPECT_TRUE(Contains(again->body, "already ended")) << again->body;
}

TEST_F(BuildActionsTest, AQueuedBuildIsCancelledBeforeItRuns) {
  StartGateway();
  auto res = Deliver("push", "cancel-q-1", BranchPush());  // queued; no worker runs yet
  ASSERT_TRUE(res);
  const std::string id = Json(res).value("job", "");
  ASSERT_FALSE(id.empty()) << res->body;

  auto cancelled = Cancel(id);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, 200) << cancelled->body;
  EXPECT_EQ(State(id)->state["status"], "cancelled");
  StartWorker();  // fetches the message and acks it without running it
  for (int i = 0; i < 100 && JobsInQueue() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(JobsInQueue(), 0u);
  EXPECT_EQ(State(id)->state["status"], "cancelled");
}

TEST_F(BuildActionsTest, AnUnknownOrMalformedIdIsRefusedWithAReason) {
  StartGateway();
  auto missing = Cancel("no-such-job");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  EXPECT_TRUE(Contains(missing->body, "no-such-job")) << missing->body;
  auto malformed = Cancel("bad.id");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400) << malformed->body;
  auto get = Query("/builds/no-such-job/cancel");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405) << get->body;
}

TEST_F(BuildActionsTest, ADeadLetteredBuildIsReplayedAndRunsAgain) {
  StartGateway();
  StartWorker();
  PublishJob("api-replay-1", "broken");  // fails terminally: dead-lettered at once
  ASSERT_FALSE(WaitForStatus("api-replay-1", {"dead"}).is_null());
  for (int i = 0; i < 50 && DeadLetters().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(DeadLetters().size(), 1u);

  auto none = Action("api-replay-1", "replay", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401) << none->body;
  EXPECT_EQ(DeadLetters().size(), 1u) << "a refused request replays nothing";

  auto res = Action("api-replay-1", "replay");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(Json(res).value("job", ""), "api-replay-1") << res->body;
  // It runs again (and, broken as it is, dies again with a new dead letter).
  ASSERT_FALSE(WaitForStatus("api-replay-1", {"running", "dead"}).is_null());
  std::vector<DeadLetter> letters;
  for (int i = 0; i < 100; ++i) {
    letters = DeadLetters();
    auto state = State("api-replay-1");
    if (!letters.empty() && state && state->state.value("status", "") == "dead" &&
        state->state.contains("replayed_from_dlq")) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(letters.size(), 1u) << "the first letter went with the replay, the second is the new death";
  EXPECT_EQ(Count(Events("api-replay-1"), "job.started"), 2);

  auto missing = Action("never-dead", "replay");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  EXPECT_TRUE(Contains(missing->body, "never-dead")) << missing->body;
}

}  // namespace
}  // namespace kiln::testing
