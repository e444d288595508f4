// kiln gateway end to end: a real nats-server, the kiln binary, HTTP over loopback.
#include "gateway_fixture.hpp"

#include "gateway/delivery_ledger.hpp"
#include "support/contains.hpp"

namespace kiln::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_F(GatewayTest, OnlyAValidSignatureGetsIn) {
  StartGateway();
  const std::string body = BranchPush();
  auto missing = Deliver("push", "d-missing", body, "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401) << missing->body;
  EXPECT_TRUE(Contains(missing->body, "X-Hub-Signature-256: missing")) << missing->body;

  auto wrong = Deliver("push", "d-wrong", body, GitHubSignature(kWebhookSecret, body + " "));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401) << wrong->body;

  auto other_secret = Deliver("push", "d-other", body, GitHubSignature("another secret", body));
  ASSERT_TRUE(other_secret);
  EXPECT_EQ(other_secret->status, 401) << other_secret->body;

  auto garbage = Deliver("push", "d-garbage", body, "sha256=not-a-digest");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 401) << garbage->body;
  // A bad signature is refused whatever the event: nothing about the body is trusted.
  auto ping = Deliver("ping", "d-ping", "{}", GitHubSignature("another secret", "{}"));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 401);
  EXPECT_EQ(JobsInQueue(), 0u);

  auto valid = Deliver("push", "d-valid", body);
  ASSERT_TRUE(valid);
  EXPECT_EQ(valid->status, 202) << valid->body;
  EXPECT_EQ(JobsInQueue(), 1u);
}

TEST_F(GatewayTest, APushBecomesAJobPublishedWithTheDeliveryIdAsMessageId) {
  StartGateway();
  auto res = Deliver("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958", BranchPush());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  const std::string id = Json(res).value("job", "");
  ASSERT_EQ(id.size(), 26u) << res->body;

  ASSERT_EQ(JobsInQueue(), 1u);
  auto [message, msg_id] = QueuedMessage(1);
  EXPECT_EQ(msg_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(message["id"], id);
  EXPECT_EQ(message["repo"]["url"], "https://github.com/Codertocat/Hello-World.git");
  EXPECT_EQ(message["repo"]["name"], "Codertocat/Hello-World");
  EXPECT_EQ(message["commit"], kPushedCommit);
  EXPECT_EQ(message["branch"], "main");
  EXPECT_EQ(message["before"], kPreviousCommit);
  EXPECT_EQ(message["delivery_id"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  // A push: its job may write the repository's caches (docs/plugins/cache.md, "Scopes").
  EXPECT_EQ(message["trusted"], true);

  // Known at once to the status API and to kiln status.
  auto state = Query("/builds/" + id);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->status, 200) << state->body;
  EXPECT_EQ(Json(state).value("status", ""), "queued") << state->body;
  EXPECT_EQ(Json(state)["commit"], kPushedCommit);
}

TEST_F(GatewayTest, ARedeliveryBuildsOnceAndAnswersWithTheFirstJob) {
  StartGateway();
  const std::string body = BranchPush();
  auto first = Deliver("push", "redelivered-1", body);
  auto second = Deliver("push", "redelivered-1", body);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 202);
  EXPECT_EQ(second->status, 202);
  EXPECT_EQ(Json(second).value("job", ""), Json(first).value("job", "")) << second->body;
  EXPECT_TRUE(Json(second).value("duplicate", false)) << second->body;
  EXPECT_EQ(JobsInQueue(), 1u);
  // The ledger holds the delivery under the bucket's TTL (gateway.delivery_ttl: 5m here).
  kvStore* kv = nullptr;
  ASSERT_EQ(js_KeyValue(&kv, client_->js(), kDeliveryBucket), NATS_OK);
  auto entry = JobStateStore(kv).Get("redelivered-1");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->state.value("job", ""), Json(first).value("job", ""));
  kvStore_Destroy(kv);
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&info, client_->js(), "KV_webhook-deliveries", nullptr, nullptr), NATS_OK);
  EXPECT_EQ(info->Config->MaxAge, 5LL * 60 * 1'000'000'000);
  jsStreamInfo_Destroy(info);
}

TEST_F(GatewayTest, ACapturedPushSentAgainUnderANewDeliveryIdBuildsOnce) {
  // GitHub signs only the body: whoever captured a delivery can send it again with a fresh
  // X-GitHub-Delivery (and even wait past JetStream's 2-minute duplicate window). The ledger
  // knows the push by its content: repository, ref, before, after.
  StartGateway();
  const std::string body = BranchPush();
  auto first = Deliver("push", "captured-1", body);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202) << first->body;
  const std::string job = Json(first).value("job", "");
  for (const char* replay : {"replayed-1", "replayed-2"}) {
    auto again = Deliver("push", replay, body);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 202) << again->body;
    EXPECT_EQ(Json(again).value("job", ""), job) << again->body;
    EXPECT_TRUE(Json(again).value("duplicate", false)) << again->body;
    EXPECT_TRUE(Contains(Json(again).value("reason", ""), "captured-1")) << again->body;
  }
  EXPECT_EQ(JobsInQueue(), 1u);

  // Other pushes still build: another commit, the same commits on another branch, and the
  // same branch moving on from there.
  auto next = Deliver("push", "next-1", PushPayload("refs/heads/main", kPushedCommit, kPreviousCommit));
  auto other_branch = Deliver("push", "branch-1", PushPayload("refs/heads/release", kPreviousCommit, kPushedCommit));
  auto new_commit =
      Deliver("push", "commit-1", PushPayload("refs/heads/main", kPreviousCommit, std::string(39, 'a') + "b"));
  for (const auto* res : {&next, &other_branch, &new_commit}) {
    ASSERT_TRUE(*res);
    EXPECT_EQ((*res)->status, 202) << (*res)->body;
    EXPECT_FALSE(Json(*res).value("duplicate", false)) << (*res)->body;
    EXPECT_NE(Json(*res).value("job", ""), job);
  }
  EXPECT_EQ(JobsInQueue(), 4u);
}

TEST_F(GatewayTest, ARedeliveryAfterTheDuplicateWindowIsStoppedByTheLedger) {
  // JetStream remembers a Nats-Msg-Id for 2 minutes; GitHub redelivers by hand days later.
  // The ledger entry stands for a delivery from long ago that JetStream has forgotten: a
  // message id the stream never saw, so only the ledger can stop it.
  kvStore* kv = nullptr;
  StartGateway();  // creates the bucket
  ASSERT_EQ(js_KeyValue(&kv, client_->js(), kDeliveryBucket), NATS_OK);
  nlohmann::json earlier = {{"job", "01JD0V3K9Q7X2M5T8N4B6C1A0F"}, {"received_at", "2026-11-20T10:00:00.000Z"}};
  std::uint64_t revision = 0;
  ASSERT_EQ(JobStateStore(kv).Write("delivered-days-ago", earlier, revision), WriteOutcome::ok);
  kvStore_Destroy(kv);

  auto res = Deliver("push", "delivered-days-ago", BranchPush());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(Json(res).value("job", ""), "01JD0V3K9Q7X2M5T8N4B6C1A0F") << res->body;
  EXPECT_TRUE(Json(res).value("duplicate", false));
  EXPECT_EQ(JobsInQueue(), 0u);
}

TEST_F(GatewayTest, ARedeliveryFinishesQueueingAJobThatNeverReachedTheQueue) {
  // A gateway that recorded the delivery and then died (or lost NATS) before publishing: the
  // ledger names the job, whose state and message are missing. The redelivery queues that
  // job, under the recorded job id and the delivery id as message id; a further redelivery
  // adds nothing.
  StartGateway();
  Job job;
  job.id = "01JD0V3K9Q7X2M5T8N4B6C1A0G";
  job.repo_url = "https://github.com/Codertocat/Hello-World.git";
  job.repo_name = "Codertocat/Hello-World";
  job.commit = kPushedCommit;
  job.branch = "main";
  job.delivery_id = "recorded-not-queued";
  kvStore* kv = nullptr;
  ASSERT_EQ(js_KeyValue(&kv, client_->js(), kDeliveryBucket), NATS_OK);
  nlohmann::json record = {{"job", job.id}, {"message", job.to_json()}, {"received_at", "2026-11-23T10:00:00.000Z"}};
  std::uint64_t revision = 0;
  ASSERT_EQ(JobStateStore(kv).Write("recorded-not-queued", record, revision), WriteOutcome::ok);
  kvStore_Destroy(kv);

  for (int i = 0; i < 2; ++i) {
    auto res = Deliver("push", "recorded-not-queued", BranchPush());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 202) << res->body;
    EXPECT_EQ(Json(res).value("job", ""), job.id) << res->body;
    EXPECT_TRUE(Json(res).value("duplicate", false)) << res->body;
  }
  ASSERT_EQ(JobsInQueue(), 1u);
  auto [message, msg_id] = QueuedMessage(1);
  EXPECT_EQ(msg_id, "recorded-not-queued");
  EXPECT_EQ(message["id"], job.id);
  auto state = Query("/builds/" + job.id);
  ASSERT_TRUE(state);
  EXPECT_EQ(Json(state).value("status", ""), "queued") << state->body;
}

TEST_F(GatewayTest, ARedeliveryOfAJobThatRanPublishesNothing) {
  // The record of a delivery from long ago (JetStream has forgotten its message id) whose
  // job ran: only the ledger and the job's state stand between the redelivery and a build.
  StartGateway();
  Job job;
  job.id = "01JD0V3K9Q7X2M5T8N4B6C1A0H";
  job.repo_url = "https://github.com/Codertocat/Hello-World.git";
  job.repo_name = "Codertocat/Hello-World";
  job.commit = kPushedCommit;
  job.branch = "main";
  kvStore* kv = nullptr;
  ASSERT_EQ(js_KeyValue(&kv, client_->js(), kDeliveryBucket), NATS_OK);
  nlohmann::json record = {{"job", job.id}, {"message", job.to_json()}, {"received_at", "2026-11-20T10:00:00.000Z"}};
  std::uint64_t revision = 0;
  ASSERT_EQ(JobStateStore(kv).Write("ran-days-ago", record, revision), WriteOutcome::ok);
  kvStore_Destroy(kv);
  ASSERT_TRUE(JobStateStore(client_->builds_kv()).Put(job.id, {{"id", job.id}, {"status", "succeeded"}}));

  auto again = Deliver("push", "ran-days-ago", BranchPush());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 202) << again->body;
  EXPECT_EQ(Json(again).value("job", ""), job.id);
  EXPECT_EQ(JobsInQueue(), 0u);
}

TEST_F(GatewayTest, PingAnswers200AndOtherEventsAreIgnored) {
  StartGateway();
  auto ping = Deliver("ping", "p-1", R"({"zen":"Keep it logically awesome.","hook_id":1})");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200) << ping->body;
  auto issues = Deliver("issues", "i-1", R"({"action":"opened"})");
  ASSERT_TRUE(issues);
  EXPECT_EQ(issues->status, 202) << issues->body;
  EXPECT_TRUE(Json(issues).value("ignored", false));
  EXPECT_TRUE(Contains(Json(issues).value("reason", ""), "issues")) << issues->body;
  EXPECT_EQ(JobsInQueue(), 0u);
}

TEST_F(GatewayTest, TheDocumentedPushExampleIsATagDeletionAndIgnored) {
  StartGateway();
  auto res = Deliver("push", "doc-example", DocumentedPushPayload());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_TRUE(Json(res).value("ignored", false)) << res->body;
  EXPECT_TRUE(Contains(Json(res).value("reason", ""), "simple-tag")) << res->body;
  EXPECT_EQ(JobsInQueue(), 0u);
}

TEST_F(GatewayTest, TagPushesBuildWhenConfigured) {
  AppendGatewaySection("  tag_pushes: build\n");
  StartGateway();
  auto res = Deliver("push", "tag-1", PushPayload("refs/tags/v1.0.0", std::string(40, '0'), kPushedCommit));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  ASSERT_EQ(JobsInQueue(), 1u);
  auto [message, msg_id] = QueuedMessage(1);
  EXPECT_EQ(message["env"]["KILN_TAG"], "v1.0.0");
  EXPECT_FALSE(message.contains("branch"));
}

TEST_F(GatewayTest, ABodyOver25MiBIs413) {
  StartGateway();
  std::string body(25 * 1024 * 1024 + 1, ' ');
  auto res = Deliver("push", "big-1", body);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(JobsInQueue(), 0u);
  // Exactly at the cap is read, verified and built (JSON may end in any amount of space).
  std::string fits = BranchPush();
  fits.append(25 * 1024 * 1024 - fits.size(), ' ');
  auto ok = Deliver("push", "big-2", fits);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202) << ok->body.substr(0, 200);
  EXPECT_EQ(JobsInQueue(), 1u);
}

TEST_F(GatewayTest, SignedButUnusablePayloadsAre400) {
  StartGateway();
  struct Case {
    std::string delivery, body, says;
  };
  auto no_repo = nlohmann::json::parse(BranchPush());
  no_repo.erase("repository");
  for (const Case& c : std::vector<Case>{
           {"bad-1", "{\"ref\": ", "payload: not valid JSON"},
           {"bad-2", no_repo.dump(), "repository: missing"},
           {"bad-3", PushPayload("refs/heads/main", kPreviousCommit, "not-a-sha"), "commit:"},
           {"bad-4", PushPayload("refs/heads/-rf", kPreviousCommit, kPushedCommit), "branch:"},
       }) {
    auto res = Deliver("push", c.delivery, c.body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << c.body.substr(0, 100);
    EXPECT_TRUE(Contains(Json(res).value("error", ""), c.says)) << res->body;
  }
  auto no_delivery = Deliver("push", "", BranchPush());
  ASSERT_TRUE(no_delivery);
  EXPECT_EQ(no_delivery->status, 400);
  EXPECT_TRUE(Contains(no_delivery->body, "X-GitHub-Delivery")) << no_delivery->body;
  EXPECT_EQ(JobsInQueue(), 0u);
}

TEST_F(GatewayTest, QueriesNeedTheBearerToken) {
  StartGateway();
  auto res = Deliver("push", "q-1", BranchPush());
  ASSERT_TRUE(res);
  const std::string id = Json(res).value("job", "");
  ASSERT_FALSE(id.empty()) << res->body;

  for (const std::string& path : {"/builds/" + id, std::string("/builds"), std::string("/builds?limit=5")}) {
    auto none = Query(path, "");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << path;
    EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
    auto wrong = Query(path, "not-the-token");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << path;
    auto prefix = Query(path, std::string(kApiToken).substr(0, 5));
    ASSERT_TRUE(prefix);
    EXPECT_EQ(prefix->status, 401) << path;
    auto right = Query(path);
    ASSERT_TRUE(right);
    EXPECT_EQ(right->status, 200) << path << ": " << right->body;
  }
  auto list = Json(Query("/builds?limit=5"));
  ASSERT_TRUE(list.contains("builds")) << list.dump();
  ASSERT_EQ(list["builds"].size(), 1u);
  EXPECT_EQ(list["builds"][0]["id"], id);

  auto missing = Query("/builds/no-such-job");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto bad_limit = Query("/builds?limit=lots");
  ASSERT_TRUE(bad_limit);
  EXPECT_EQ(bad_limit->status, 400);
  EXPECT_TRUE(Contains(bad_limit->body, "limit")) << bad_limit->body;
}

TEST_F(GatewayTest, HealthFollowsTheNatsConnection) {
  StartGateway();
  auto up = Client().Get("/healthz");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200);

  server_.Stop();
  int status = 0;
  for (int i = 0; i < 100 && status != 503; ++i) {
    if (auto res = Client().Get("/healthz")) status = res->status;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(status, 503);
  // A webhook that cannot be queued says so (GitHub shows the failure; redeliver later).
  auto res = Deliver("push", "while-down", BranchPush());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;

  server_.Start();
  for (int i = 0; i < 100 && status != 200; ++i) {
    if (auto again = Client().Get("/healthz")) status = again->status;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(status, 200);
  // The failed delivery was not remembered: its redelivery builds.
  auto retried = Deliver("push", "while-down", BranchPush());
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, 202) << retried->body;
  EXPECT_FALSE(Json(retried).value("duplicate", false)) << retried->body;
}

TEST_F(GatewayTest, MetricsCountWebhooksByResult) {
  StartGateway();
  Deliver("push", "m-1", BranchPush());
  Deliver("push", "m-1", BranchPush());
  Deliver("push", "m-2", BranchPush(), "");
  Deliver("ping", "m-3", "{}");
  auto metrics = Client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(Contains(metrics->get_header_value("Content-Type"), "text/plain")) << metrics->get_header_value("Content-Type");
  const std::string& text = metrics->body;
  EXPECT_TRUE(Contains(text, "# TYPE kiln_gateway_webhooks_total counter")) << text;
  EXPECT_TRUE(Contains(text, "kiln_gateway_webhooks_total{result=\"accepted\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_gateway_webhooks_total{result=\"duplicate\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_gateway_webhooks_total{result=\"unauthorized\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_gateway_webhooks_total{result=\"ping\"} 1")) << text;
}

TEST_F(GatewayTest, AWebhookBuildsOnAWorker) {
  // pipelines/<owner>/<repo>.lua: the job's repository picks its pipeline.
  WritePipeline("Codertocat/Hello-World", "kiln.step(\"hello\", function() return { said = \"hello\" } end)\n");
  StartWorker();
  StartGateway();
  auto res = Deliver("push", "e2e-1", BranchPush());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  const std::string id = Json(res).value("job", "");
  ASSERT_FALSE(WaitForStatus(id, {"succeeded"}).is_null());
  auto state = Json(Query("/builds/" + id));
  EXPECT_EQ(state.value("status", ""), "succeeded") << state.dump();
  EXPECT_EQ(state["steps"][0]["name"], "hello");
}

TEST_F(GatewayTest, RefusesToStartWithoutAWebhookSecret) {
  std::string config = ReadFile(config_path());
  config = config.substr(0, config.find("gateway:")) + "gateway:\n  port: " + std::to_string(port_) + "\n";
  WriteFile(config_path(), config);
  std::string out;
  EXPECT_EQ(RunKiln("gateway", &out), 2) << out;
  EXPECT_TRUE(Contains(out, "gateway.webhook_secret")) << out;
}

}  // namespace
}  // namespace kiln::testing
