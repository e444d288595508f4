// How a worker claims a job on its first delivery: one compare-and-set write, no read of the
// state, when the state is as the publisher left it (or absent); a read and a decision when
// that write fails. Reads are seen by listening on the KV stream's get API subjects.
#include <atomic>
#include <string>

#include "worker_fixture.hpp"
#include "job/job.hpp"
#include "transport/job_publisher.hpp"

namespace kiln::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Counts requests to read the KV entry of one job (direct gets and stream message gets).
class StateReads {
 public:
  StateReads(NatsConnection& conn, std::string job_id) : key_("$KV." + std::string(subjects::kStateBucket) + "." + job_id) {
    const std::string stream = "KV_" + std::string(subjects::kStateBucket);
    for (const auto& subject : {"$JS.API.DIRECT.GET." + stream + ".>", "$JS.API.STREAM.MSG.GET." + stream}) {
      natsSubscription* sub = nullptr;
      EXPECT_EQ(natsConnection_Subscribe(&sub, conn.nc(), subject.c_str(), &StateReads::OnRequest, this), NATS_OK);
      subs_.push_back(sub);
    }
    natsConnection_Flush(conn.nc());
  }
  ~StateReads() {
    for (auto* sub : subs_) natsSubscription_Destroy(sub);
  }
  int count() const { return count_.load(); }
  /// Waits (up to 5 s) for at least `n` reads: the probe's callback runs on cnats' thread.
  int WaitFor(int n) const {
    for (int i = 0; i < 100 && count_.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return count_.load();
  }

 private:
  static void OnRequest(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<StateReads*>(closure);
    const std::string text = std::string(natsMsg_GetSubject(msg)) + " " +
                             std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    if (text.find(self->key_) != std::string::npos) ++self->count_;
    natsMsg_Destroy(msg);
  }
  std::string key_;
  std::vector<natsSubscription*> subs_;
  std::atomic<int> count_{0};
};

class ClaimTest : public WorkerTest {
 protected:
  Job MakeJob(const std::string& id) {
    auto job = ParseJob(JobBody(id, "noop"), JobRules{});
    EXPECT_TRUE(job.ok()) << job.error();
    return job.value();
  }
  /// Waits for the job's terminal event without reading its state (that would be a read).
  nlohmann::json WaitForEvent(const std::string& id, const std::string& type) {
    for (int i = 0; i < 300; ++i) {
      for (const auto& e : Events(id)) {
        if (e.value("type", "") == type) return e;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    ADD_FAILURE() << "no " << type << " event for " << id;
    return nullptr;
  }
};

TEST_F(ClaimTest, AJobItsPublisherQueuedIsClaimedWithoutReadingItsState) {
  const Job job = MakeJob("claim-published");
  JobPublication publication;
  ASSERT_TRUE(kiln::PublishJob(*client_, job, publication).ok());
  ASSERT_TRUE(publication.state_created);
  StateReads reads(*client_, job.id);
  StartWorker();
  ASSERT_FALSE(WaitForEvent(job.id, "job.succeeded").is_null());
  EXPECT_EQ(reads.count(), 0) << "the worker read the state it could rebuild from the message's headers";

  auto state = State(job.id);
  ASSERT_TRUE(state);
  EXPECT_GE(reads.WaitFor(1), 1) << "the probe does not see reads; this test proves nothing";
  EXPECT_EQ(state->state["status"], "succeeded");
  EXPECT_EQ(state->state["queued_at"], publication.queued_at) << state->state.dump();
  EXPECT_EQ(state->state["attempt"], 1);
  EXPECT_EQ(Count(Events(job.id), "job.queued"), 1);
  EXPECT_EQ(JobsLeftInQueue(), 0u);
}

TEST_F(ClaimTest, ARawPublishedJobIsClaimedWithoutReadingItsState) {
  StateReads reads(*client_, "claim-raw");
  PublishJob("claim-raw", "noop");
  StartWorker();
  ASSERT_FALSE(WaitForEvent("claim-raw", "job.succeeded").is_null());
  EXPECT_EQ(reads.count(), 0);
  auto state = State("claim-raw");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state["status"], "succeeded");
}

// The state moved on after the message was published (here: written again by hand): the
// header's revision no longer matches, so the worker reads the state and claims it from there.
TEST_F(ClaimTest, AStateThatMovedOnIsReadBeforeTheClaim) {
  const Job job = MakeJob("claim-moved");
  JobPublication publication;
  ASSERT_TRUE(kiln::PublishJob(*client_, job, publication).ok());
  auto queued = State(job.id);
  ASSERT_TRUE(queued);
  queued->state["note"] = "written after the publish";
  ASSERT_TRUE(JobStateStore(client_->builds_kv()).Put(job.id, queued->state));
  StateReads reads(*client_, job.id);
  StartWorker();
  ASSERT_FALSE(WaitForEvent(job.id, "job.succeeded").is_null());
  EXPECT_GE(reads.WaitFor(1), 1);
  auto state = State(job.id);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state["status"], "succeeded");
  EXPECT_EQ(state->state["note"], "written after the publish") << "the claim must start from the stored state";
}

// A message that says its state is at the revision a finished job's state has now must not
// run that job again: a succeeded job's entry is never at the revision its publisher wrote.
TEST_F(ClaimTest, AJobThatSucceededIsNotRunAgainByAMessageWithItsOldRevision) {
  const Job job = MakeJob("claim-again");
  JobPublication publication;
  ASSERT_TRUE(kiln::PublishJob(*client_, job, publication).ok());
  StartWorker();
  ASSERT_FALSE(WaitForEvent(job.id, "job.succeeded").is_null());
  ASSERT_EQ(JobsLeftInQueue(), 0u);

  // The same job again under another message id, carrying the first publication's headers.
  const std::string body = job.to_json().dump();
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsMsg_Create(&msg, subjects::kJobs, nullptr, body.data(), static_cast<int>(body.size())), NATS_OK);
  natsMsgHeader_Set(msg, "Nats-Msg-Id", "claim-again-2");
  natsMsgHeader_Set(msg, kStateRevisionHeader, std::to_string(publication.state_revision).c_str());
  natsMsgHeader_Set(msg, kQueuedAtHeader, publication.queued_at.c_str());
  ASSERT_EQ(js_PublishMsg(nullptr, client_->js(), msg, nullptr, nullptr), NATS_OK);
  natsMsg_Destroy(msg);
  EXPECT_EQ(JobsLeftInQueue(), 0u);
  EXPECT_EQ(Count(Events(job.id), "job.started"), 1);
  EXPECT_EQ(State(job.id)->state["status"], "succeeded");
}

}  // namespace
}  // namespace kiln::testing
