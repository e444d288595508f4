#include "transport/dead_letter_replay.hpp"

#include "events/job_events.hpp"
#include "state/job_state.hpp"
#include "transport/dead_letters.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"

namespace kiln {

namespace {

ReplayOutcome MakeReplayOutcome(ReplayOutcome::Kind kind, std::string error = {}) {
  ReplayOutcome outcome;
  outcome.kind = kind;
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace

ReplayOutcome ReplayDeadLetter(NatsConnection& conn, const std::string& id, const JobRules& rules) {
  using Kind = ReplayOutcome::Kind;
  auto letters = ListDeadLetters(conn);
  if (!letters) return MakeReplayOutcome(Kind::unavailable, letters.error());
  const DeadLetter* letter = nullptr;
  for (const auto& d : letters.value()) {
    if (d.job_id == id || std::to_string(d.dlq_seq) == id) letter = &d;  // the newest one wins
  }
  if (letter == nullptr) return MakeReplayOutcome(Kind::no_dead_letter);
  auto job = ParseJob(letter->body, rules);
  if (letter->truncated) return MakeReplayOutcome(Kind::cannot_run, "its message was truncated");
  if (!job) return MakeReplayOutcome(Kind::cannot_run, job.error());

  JobStateStore store(conn.builds_kv());
  std::string error;
  nlohmann::json state = JobStateBuilder::Queued(job.value(), NowIso8601());
  if (auto stored = store.Get(job->id)) state["next_seq"] = stored->state.value("next_seq", std::uint64_t{1});
  state["replayed_from_dlq"] = letter->dlq_seq;
  if (!store.Put(job->id, state, &error)) {
    return MakeReplayOutcome(Kind::unavailable, "resetting the state of " + job->id + ": " + error);
  }
  natsMsg* msg = nullptr;
  natsMsg_Create(&msg, subjects::kJobs, nullptr, letter->body.data(), static_cast<int>(letter->body.size()));
  // Not the job id: that would be dropped as a duplicate within the window.
  const std::string msg_id = job->id + "-replay-" + std::to_string(letter->dlq_seq);
  natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_PublishMsg(nullptr, conn.js(), msg, nullptr, &code);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) return MakeReplayOutcome(Kind::unavailable, "publishing " + job->id + ": " + NatsError(s));

  ReplayOutcome outcome = MakeReplayOutcome(Kind::replayed);
  outcome.job_id = job->id;
  outcome.dlq_seq = letter->dlq_seq;
  if (auto deleted = DeleteDeadLetter(conn, letter->dlq_seq); !deleted) {
    outcome.warning = deleted.error() + " (the job was replayed)";
  }
  return outcome;
}

}  // namespace kiln
