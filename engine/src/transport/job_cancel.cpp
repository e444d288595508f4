#include "transport/job_cancel.hpp"

#include "events/job_events.hpp"
#include "state/job_state.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"

namespace kiln {

namespace {

// Ten rounds of a 2 s request: a worker that is reconnecting to NATS gets ~20 s to answer.
constexpr int kRounds = 10;
constexpr int kRequestTimeoutMs = 2000;

CancelOutcome MakeCancelOutcome(CancelOutcome::Kind kind, std::string worker = {}, std::string status = {},
                                std::string error = {}) {
  CancelOutcome outcome;
  outcome.kind = kind;
  outcome.worker = std::move(worker);
  outcome.status = std::move(status);
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace

CancelOutcome CancelJob(NatsConnection& conn, const std::string& id) {
  using Kind = CancelOutcome::Kind;
  JobStateStore store(conn.builds_kv());
  const std::string subject = std::string(subjects::kCancelPrefix) + id;
  for (int round = 0; round < kRounds; ++round) {
    natsMsg* reply = nullptr;
    if (natsConnection_Request(&reply, conn.nc(), subject.c_str(), "", 0, kRequestTimeoutMs) == NATS_OK) {
      auto answer = nlohmann::json::parse(natsMsg_GetData(reply), natsMsg_GetData(reply) + natsMsg_GetDataLength(reply),
                                          nullptr, false);
      natsMsg_Destroy(reply);
      const auto worker = answer.is_object() ? answer.find("worker") : answer.end();
      const bool named = answer.is_object() && worker != answer.end() && worker->is_string();
      return MakeCancelOutcome(Kind::worker_asked, named ? worker->get<std::string>() : "?");
    }
    // No worker runs it: a job still waiting in the queue is cancelled in its state.
    std::string error;
    auto stored = store.Get(id, &error);
    if (!stored) {
      return error.empty() ? MakeCancelOutcome(Kind::no_such_job) : MakeCancelOutcome(Kind::unavailable, "", "", error);
    }
    const std::string status = stored->state.value("status", "");
    if (IsTerminalStatus(status)) return MakeCancelOutcome(Kind::already_ended, "", status);
    if (status == "running") continue;  // its worker may be reconnecting: ask again
    nlohmann::json event = {{"job", id}, {"seq", stored->state.value("next_seq", std::uint64_t{1})},
                            {"time", NowIso8601()}, {"worker", ""}, {"type", "job.cancelled"},
                            {"message", "cancelled before it ran"}};
    JobStateBuilder state(stored->state);
    state.apply(event);
    std::uint64_t revision = stored->revision;
    if (store.Write(id, state.state(), revision) == WriteOutcome::ok) {
      const std::string body = event.dump();
      const std::string status_subject = std::string(subjects::kStatusPrefix) + id;
      js_Publish(nullptr, conn.js(), status_subject.c_str(), body.data(), static_cast<int>(body.size()), nullptr,
                 nullptr);
      return MakeCancelOutcome(Kind::cancelled_queued);
    }
    // The state changed under us (a worker claimed it): look again.
  }
  return MakeCancelOutcome(Kind::worker_silent);
}

}  // namespace kiln
