// POST /builds/{id}/cancel on a real `kiln gateway`, with real workers and nats-server:
// what `kiln cancel` does, behind the bearer token.
#include "gateway_fixture.hpp"
#include "support/contains.hpp"

namespace kiln::testing {
namespace {

class CancelApiTest : public GatewayTest {
 protected:
  httplib::Result Cancel(const std::string& id, const std::string& token = kApiToken) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Client().Post("/builds/" + id + "/cancel", headers, "", "application/json");
  }
};

TEST_F(CancelApiTest, ARunningBuildIsStoppedByItsWorker) {
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

TEST_F(CancelApiTest, AQueuedBuildIsCancelledBeforeItRuns) {
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

TEST_F(CancelApiTest, AnUnknownOrMalformedIdIsRefusedWithAReason) {
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

}  // namespace
}  // namespace kiln::testing
