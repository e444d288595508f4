// The max-deliveries handler: a message whose workers all died before acking it reaches
// max deliveries; one worker of the group takes the server's advisory and dead-letters it,
// unless its job finished after all.
#include <spdlog/spdlog.h>

#include <string>

#include "events/job_events.hpp"
#include "state/job_state.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"
#include "worker/jetstream_message.hpp"
#include "worker/status_subject_sink.hpp"
#include "worker/worker.hpp"

namespace kiln {

void Worker::OnMaxDeliveries(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<Worker*>(closure);
  auto advisory = nlohmann::json::parse(natsMsg_GetData(msg), natsMsg_GetData(msg) + natsMsg_GetDataLength(msg),
                                        nullptr, false);
  natsMsg_Destroy(msg);
  if (!advisory.is_object()) return;
  auto seq = advisory.value("stream_seq", std::uint64_t{0});
  auto deliveries = advisory.value("deliveries", 0);
  if (seq == 0) return;
  // Everything else waits on NATS, so it happens on the publisher's thread: this callback
  // returns at once, ready for the next advisory.
  self->dead_letters_->Submit(self->MaxDeliveriesHandoff(seq, deliveries));
}

DeadLetterPublisher::Handoff Worker::MaxDeliveriesHandoff(std::uint64_t seq, int deliveries) {
  DeadLetterPublisher::Handoff handoff;
  DeadLetter& initial = handoff.letter;
  initial.stream_seq = seq;
  initial.attempts = deliveries;
  initial.worker = worker_id_;
  initial.reason = "reached max deliveries (" + std::to_string(deliveries) + ") without an ack: its workers died";
  handoff.prepare = [this, seq, deliveries, read = false](DeadLetter& letter,
                                                          std::string* why) mutable -> DeadLetterPublisher::Readiness {
    if (!read) {
      natsMsg* original = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s = js_GetMsg(&original, conn_.js(), subjects::kJobsStream, seq, nullptr, &code);
      // Gone already (acked late): only a message still in BUILDS is dead-lettered.
      if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return DeadLetterPublisher::Readiness::drop;
      if (s != NATS_OK) {
        *why = "reading message " + std::to_string(seq) + " from BUILDS: " + NatsError(s);
        return DeadLetterPublisher::Readiness::later;
      }
      letter.body = BodyOf(original);
      natsMsg_Destroy(original);
      auto doc = nlohmann::json::parse(letter.body, nullptr, false);
      if (doc.is_object() && doc.contains("id") && doc["id"].is_string()) letter.job_id = doc["id"].get<std::string>();
      read = true;
    }
    if (letter.job_id.empty() || !IsValidJobId(letter.job_id)) return DeadLetterPublisher::Readiness::ready;
    return DecideDeadAfterMaxDeliveries(letter, deliveries, why);
  };
  handoff.published = [this, seq](const DeadLetter& letter) {
    jsErrCode code = static_cast<jsErrCode>(0);
    js_DeleteMsg(conn_.js(), subjects::kJobsStream, seq, nullptr, &code);
    if (observer_ != nullptr) PublishJobDead(*observer_, letter.job_id, 1, {{"reason", letter.reason}});
    spdlog::warn("worker {}: message {} (job {}) {}; dead-lettered", worker_id_, seq, letter.job_id, letter.reason);
  };
  handoff.given_up = [this, seq](const DeadLetter& letter, const std::string&) {
    // No delivery is left to try again: say loudly what stays behind.
    spdlog::error("worker {}: message {} (job {}) reached max deliveries but could not be dead-lettered; it stays "
                  "in BUILDS",
                  worker_id_, seq, letter.job_id);
  };
  return handoff;
}

DeadLetterPublisher::Readiness Worker::DecideDeadAfterMaxDeliveries(DeadLetter& letter, int deliveries,
                                                                    std::string* why) {
  // Compare-and-set, read again on a conflict: the job's last worker may be writing its
  // result right now (it was slow, not dead), and a result must not be overwritten.
  JobStateStore store(conn_.builds_kv());
  for (int round = 0; round < 3; ++round) {
    std::string error;
    auto stored = store.Get(letter.job_id, &error);
    if (!stored && !error.empty()) {
      *why = "reading the state of job " + letter.job_id + ": " + error;
      return DeadLetterPublisher::Readiness::later;
    }
    nlohmann::json state = stored ? stored->state : nlohmann::json{{"id", letter.job_id}, {"steps", nlohmann::json::array()}};
    std::uint64_t revision = stored ? stored->revision : 0;
    const std::string status = state.value("status", "");
    if (IsTerminalStatus(status) && status != "dead") {
      // It finished; only its ack was lost. Nothing to dead-letter.
      jsErrCode code = static_cast<jsErrCode>(0);
      js_DeleteMsg(conn_.js(), subjects::kJobsStream, letter.stream_seq, nullptr, &code);
      return DeadLetterPublisher::Readiness::drop;
    }
    // Dead already (by its worker, or by an earlier try of this letter): only the letter is missing.
    if (status == "dead") return DeadLetterPublisher::Readiness::ready;
    letter.error = state.value("error", "");
    state["status"] = "dead";
    state["reason"] = letter.reason;
    state["finished_at"] = NowIso8601();
    state["updated_at"] = NowIso8601();
    state["stream_seq"] = letter.stream_seq;
    const std::uint64_t event_seq = state.value("next_seq", std::uint64_t{1});
    state["next_seq"] = event_seq + 1;
    auto outcome = store.Write(letter.job_id, state, revision, &error);
    if (outcome == WriteOutcome::unavailable) {
      *why = "writing the state of job " + letter.job_id + ": " + error;
      return DeadLetterPublisher::Readiness::later;
    }
    if (outcome == WriteOutcome::ok) {
      // The job's one terminal event: no worker is left to publish it.
      nlohmann::json fields = {{"reason", letter.reason}, {"attempts", deliveries}, {"dead_lettered", true}};
      if (!letter.error.empty()) fields["error"] = letter.error;
      StatusSubjectSink status_subject(conn_, letter.job_id);
      PublishJobDead(status_subject, letter.job_id, event_seq, std::move(fields));
      return DeadLetterPublisher::Readiness::ready;
    }
    // conflict: someone wrote in between; read again and decide again.
  }
  *why = "the state of job " + letter.job_id + " keeps changing";
  return DeadLetterPublisher::Readiness::later;
}

}  // namespace kiln
