#include "transport/job_publisher.hpp"

#include "events/job_events.hpp"
#include "state/job_state.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"

namespace kiln {

nlohmann::json PublishedQueuedState(const Job& job, const std::string& queued_at) {
  nlohmann::json state = JobStateBuilder::Queued(job, queued_at);
  state["next_seq"] = 2;  // job.queued is seq 1
  return state;
}

Result<bool> PublishJob(NatsConnection& conn, const Job& job, JobPublication& progress, std::string_view message_id) {
  const std::string now = NowIso8601();
  if (!progress.state_checked) {
    JobStateStore store(conn.builds_kv());
    nlohmann::json state = PublishedQueuedState(job, now);
    std::uint64_t revision = 0;
    std::string error;
    switch (store.Write(job.id, state, revision, &error)) {
      case WriteOutcome::ok:
        progress.state_created = true;
        progress.state_revision = revision;
        progress.queued_at = now;
        break;
      case WriteOutcome::conflict: break;  // another publisher (or an earlier run) has it
      case WriteOutcome::unavailable: return MakeError("writing the state of job " + job.id + ": " + error);
    }
    progress.state_checked = true;
  }
  if (!progress.published) {
    const std::string body = job.to_json().dump();
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subjects::kJobs, nullptr, body.data(), static_cast<int>(body.size()));
    if (s != NATS_OK) return MakeError("publishing job " + job.id + ": " + NatsError(s));
    const std::string msg_id(message_id.empty() ? std::string_view(job.id) : message_id);
    natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
    if (progress.state_created) {
      natsMsgHeader_Set(msg, kStateRevisionHeader, std::to_string(progress.state_revision).c_str());
      natsMsgHeader_Set(msg, kQueuedAtHeader, progress.queued_at.c_str());
    }
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    s = js_PublishMsg(&ack, conn.js(), msg, nullptr, &code);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) return MakeError("publishing job " + job.id + ": " + NatsError(s));
    progress.duplicate = ack->Duplicate;
    jsPubAck_Destroy(ack);
    progress.published = true;
  }
  if (progress.state_created && !progress.queued_announced) {
    // Best effort, like kiln submit: the state already says queued.
    const std::string subject = std::string(subjects::kStatusPrefix) + job.id;
    nlohmann::json queued = {{"job", job.id}, {"seq", 1}, {"time", now}, {"worker", ""}, {"type", "job.queued"}};
    const std::string text = queued.dump();
    js_Publish(nullptr, conn.js(), subject.c_str(), text.data(), static_cast<int>(text.size()), nullptr, nullptr);
    progress.queued_announced = true;
  }
  return true;
}

}  // namespace kiln
