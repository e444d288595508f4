// The pieces behind the worker's guarantees, on a real nats-server without worker
// processes: the lost-lease check (compare-and-set on the KV entry), the state folding,
// the job-level retry delays.
#include <random>
#include <thread>

#include "state/job_state.hpp"
#include "support/reply_holding_proxy.hpp"
#include "support/state_history.hpp"
#include "transport/nats_job_sink.hpp"
#include "worker/job_retry_delay.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

Job SampleJob(const std::string& id) {
  Job job;
  job.id = id;
  job.repo_url = "https://example.invalid/acme/shop.git";
  job.repo_name = "acme/shop";
  job.commit = kCommit;
  return job;
}

nlohmann::json Event(const std::string& id, std::uint64_t seq, const std::string& type, nlohmann::json fields = {}) {
  nlohmann::json e = {{"job", id}, {"seq", seq}, {"time", "2026-11-22T10:15:02.118Z"}, {"worker", "w1"}, {"type", type}};
  if (fields.is_object()) e.update(fields);
  return e;
}

TEST_F(WorkerTest, ASinkThatLostItsLeasePublishesNothingAndCancelsItsJob) {
  JobStateStore store(client_->builds_kv());
  std::uint64_t revision = 0;
  ASSERT_EQ(store.Write("lease-1", JobStateBuilder::Queued(SampleJob("lease-1"), "t0"), revision), WriteOutcome::ok);
  CancellationToken token;
  NatsJobSink sink(*client_, "lease-1", State("lease-1")->state, revision, &token);
  sink.publish(Event("lease-1", 2, "job.started"));
  sink.Heartbeat();  // writes the coalesced change
  EXPECT_FALSE(sink.lease_lost());
  EXPECT_EQ(State("lease-1")->state["status"], "running");

  // Another worker takes the job over (a redelivery after this one's ack wait ran out).
  auto taken = State("lease-1");
  nlohmann::json theirs = taken->state;
  theirs["worker"] = "w2";
  theirs["attempt"] = 2;
  std::uint64_t their_revision = taken->revision;
  ASSERT_EQ(store.Write("lease-1", theirs, their_revision), WriteOutcome::ok);

  // The old attempt's next write (coalesced: at the latest the next heartbeat) fails; it
  // stops and publishes nothing more. Progress events in between may still go out; no result.
  sink.publish(Event("lease-1", 3, "step.started", {{"step", "build"}, {"attempt", 1}}));
  sink.Heartbeat();
  EXPECT_TRUE(sink.lease_lost());
  sink.publish(Event("lease-1", 4, "step.finished", {{"step", "build"}, {"attempt", 1}, {"status", "ok"}}));
  EXPECT_TRUE(token.stopped());
  sink.publish(Event("lease-1", 5, "job.succeeded"));
  EXPECT_FALSE(sink.held_terminal().has_value());
  EXPECT_FALSE(sink.Finish(Event("lease-1", 5, "job.succeeded"), std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  auto now = State("lease-1");
  EXPECT_EQ(now->state["worker"], "w2");
  EXPECT_EQ(now->state["status"], "running");
  EXPECT_EQ(now->revision, their_revision);
  auto events = Events("lease-1");
  EXPECT_EQ(Count(events, "job.started"), 1);
  EXPECT_EQ(Count(events, "step.finished"), 0);
  EXPECT_EQ(Count(events, "job.succeeded"), 0);
}

TEST_F(WorkerTest, HeartbeatNoticesALostLeaseWithoutAWrite) {
  JobStateStore store(client_->builds_kv());
  std::uint64_t revision = 0;
  ASSERT_EQ(store.Write("lease-2", JobStateBuilder::Queued(SampleJob("lease-2"), "t0"), revision), WriteOutcome::ok);
  CancellationToken token;
  NatsJobSink sink(*client_, "lease-2", State("lease-2")->state, revision, &token);
  sink.Heartbeat();
  EXPECT_FALSE(sink.lease_lost());
  std::uint64_t other = revision;
  ASSERT_EQ(store.Write("lease-2", nlohmann::json{{"status", "running"}, {"worker", "w2"}}, other), WriteOutcome::ok);
  sink.Heartbeat();
  EXPECT_TRUE(sink.lease_lost());
  EXPECT_TRUE(token.stopped());
}

// The chaos test's rare `running succeeded succeeded`: NATS stored the final state, its
// acknowledgement was lost (a node stop, here held back by a proxy past the 5 s JetStream
// wait), and the retry in Finish wrote the same state again as a second terminal revision.
TEST_F(WorkerTest, AFinalStateWhoseAcknowledgementWasLostIsStoredOnce) {
  ReplyHoldingProxy proxy(server_.port());
  NatsConfig nats;
  nats.url = proxy.url();
  nats.reconnect_wait = std::chrono::milliseconds(250);
  auto through_proxy = NatsConnection::Connect(nats, "lossy worker", nullptr);
  ASSERT_TRUE(through_proxy.ok()) << through_proxy.error();

  ASSERT_TRUE(EnsureStreams(*through_proxy.value(), nats).ok());

  JobStateStore store(client_->builds_kv());
  std::uint64_t revision = 0;
  ASSERT_EQ(store.Write("lost-ack", JobStateBuilder::Queued(SampleJob("lost-ack"), "t0"), revision), WriteOutcome::ok);
  CancellationToken token;
  NatsJobSink sink(*through_proxy.value(), "lost-ack", State("lost-ack")->state, revision, &token);
  sink.publish(Event("lost-ack", 2, "job.started"));
  sink.Heartbeat();
  ASSERT_EQ(State("lost-ack")->state["status"], "running");

  proxy.hold_replies(true);
  std::thread release([&] {
    // The final write reaches the server at once; its answer waits out the client's wait.
    for (int i = 0; i < 300 && State("lost-ack")->state.value("status", "") != "succeeded"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(6000));
    proxy.hold_replies(false);
  });
  const bool finished =
      sink.Finish(Event("lost-ack", 3, "job.succeeded"), std::chrono::steady_clock::now() + std::chrono::seconds(30));
  release.join();

  EXPECT_TRUE(finished);
  EXPECT_FALSE(sink.lease_lost());
  std::string statuses;
  int terminal = 0;
  for (const auto& state : StateHistory(*client_, "lost-ack")) {
    statuses += state.value("status", "?") + " ";
    terminal += IsTerminalStatus(state.value("status", "")) ? 1 : 0;
  }
  EXPECT_EQ(terminal, 1) << "KV history: " << statuses;
  EXPECT_EQ(Count(Events("lost-ack"), "job.succeeded"), 1);
}

TEST(JobStateBuilder, FoldsEventsIntoTheState) {
  JobStateBuilder b(JobStateBuilder::Queued(SampleJob("s1"), "t0"));
  EXPECT_TRUE(b.apply(Event("s1", 2, "job.started")));
  EXPECT_TRUE(b.apply(Event("s1", 3, "step.started", {{"step", "git sync"}, {"attempt", 1}})));
  EXPECT_TRUE(b.apply(Event("s1", 4, "step.retrying", {{"step", "git sync"}, {"error", "timeout"}, {"delay_ms", 10}})));
  EXPECT_TRUE(b.apply(Event("s1", 5, "step.started", {{"step", "git sync"}, {"attempt", 2}})));
  EXPECT_FALSE(b.apply(Event("s1", 6, "step.log", {{"step", "git sync"}, {"message", "x"}})));
  EXPECT_TRUE(b.apply(Event("s1", 7, "step.finished",
                            {{"step", "git sync"}, {"attempt", 2}, {"status", "ok"}, {"duration_ms", 812},
                             {"outputs", {{"commit", kCommit}}}})));
  EXPECT_TRUE(b.apply(Event("s1", 8, "job.succeeded", {{"duration_ms", 900}, {"outputs", {{"digest", "sha256:1"}}}})));
  const auto& s = b.state();
  EXPECT_EQ(s["status"], "succeeded");
  EXPECT_EQ(s["worker"], "w1");
  EXPECT_EQ(s["next_seq"], 9);
  EXPECT_EQ(s["duration_ms"], 900);
  EXPECT_EQ(s["outputs"]["digest"], "sha256:1");
  ASSERT_EQ(s["steps"].size(), 1u);
  EXPECT_EQ(s["steps"][0]["attempts"], 2);
  EXPECT_EQ(s["steps"][0]["duration_ms"], 812);
  EXPECT_EQ(s["steps"][0]["status"], "ok");
  EXPECT_FALSE(s["steps"][0].contains("error"));
  EXPECT_TRUE(IsTerminalStatus(s["status"].get<std::string>()));
  // A retry of the whole job starts its steps afresh.
  b.apply(Event("s1", 9, "job.failed", {{"will_retry", true}, {"error", "net"}}));
  EXPECT_EQ(b.state()["status"], "retrying");
  EXPECT_FALSE(IsTerminalStatus("retrying"));
  b.apply(Event("s1", 10, "job.started"));
  EXPECT_TRUE(b.state()["steps"].empty());
}

TEST(JobRetryDelay, ExponentialWithJitterAndCap) {
  using std::chrono::milliseconds;
  std::mt19937_64 rng(7);
  const milliseconds initial(10'000), max(300'000);
  for (int trial = 0; trial < 2000; ++trial) {
    for (int attempt = 1; attempt <= 10; ++attempt) {
      double base = std::min(10'000.0 * (1 << (attempt - 1)), 300'000.0);
      auto d = JobRetryDelay(attempt, initial, max, rng);
      EXPECT_GE(d.count(), static_cast<std::int64_t>(base * 0.8) - 1) << attempt;
      EXPECT_LE(d.count(), static_cast<std::int64_t>(std::min(base * 1.2, 300'000.0)) + 1) << attempt;
      EXPECT_LE(d, max);
    }
  }
  EXPECT_EQ(JobRetryDelay(3, milliseconds(0), max, rng).count(), 0);
}

}  // namespace
}  // namespace kiln::testing
