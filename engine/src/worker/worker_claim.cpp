// The claim: a job runs once its KV entry says "running here, attempt N" (compare-and-set);
// a terminal entry or a duplicate message is acked without a run.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "events/job_events.hpp"
#include "state/job_state.hpp"
#include "transport/job_publisher.hpp"
#include "transport/job_state_store.hpp"
#include "worker/jetstream_message.hpp"
#include "worker/worker.hpp"

namespace kiln {

void Worker::Process(natsMsg* msg) {
  JetStreamDelivery delivery = DeliveryOf(msg);
  JobRules rules;
  rules.allow_file_urls = config_.build.allow_file_urls;
  std::string body = BodyOf(msg);
  auto parsed = ParseJob(body, rules);
  if (!parsed) {
    DeadLetterInvalid(msg, delivery.delivered, delivery.stream_seq, parsed.error());  // takes the message
    return;
  }
  const Job& job = parsed.value();
  JobStateStore store(conn_.builds_kv());

  if (delivery.delivered == 1 && ClaimFirstDelivery(msg, job, delivery.stream_seq)) return;

  // Claim the job: compare-and-set the KV entry to "running here, attempt N".
  for (int round = 0;; ++round) {
    if (stopping() && shutting_down_jobs_.load()) {
      natsMsg_Nak(msg, nullptr);
      natsMsg_Destroy(msg);
      return;
    }
    std::string error;
    auto stored = store.Get(job.id, &error);
    if (!stored && !error.empty()) {
      spdlog::warn("worker {}: job {}: reading its state: {}; retrying", worker_id_, job.id, error);
      SleepUnlessStopping(std::chrono::milliseconds(500));
      continue;
    }
    nlohmann::json state = stored ? stored->state : JobStateBuilder::Queued(job, NowIso8601());
    std::uint64_t revision = stored ? stored->revision : 0;
    const std::string status = state.value("status", "queued");
    if (IsTerminalStatus(status)) {
      spdlog::info("worker {}: job {} is already {}; acknowledging message {} without running it", worker_id_,
                   job.id, status, delivery.stream_seq);
      if (status == "dead" && state.value("stream_seq", std::uint64_t{0}) == delivery.stream_seq) {
        // The worker that dead-lettered it may have died before publishing the dead letter:
        // publish it (again; the dead-letter stream drops a repeat within its window).
        DeadLetter letter{job.id, state.value("reason", "dead"), state.value("error", ""),
                          static_cast<int>(delivery.delivered), worker_id_, "", delivery.stream_seq, body};
        dead_letters_->Submit(DeadLetterPublisher::Handoff(std::move(letter), msg));  // acked once the letter is in
        return;
      }
      Ack(msg, "job " + job.id);
      natsMsg_Destroy(msg);
      return;
    }
    if (status == "running" && state.contains("stream_seq") &&
        state.value("stream_seq", std::uint64_t{0}) != delivery.stream_seq) {
      // Another message with the same id (published again after the duplicate window) while
      // the first runs: the id runs once.
      spdlog::info("worker {}: job {} already runs from message {}; acknowledging duplicate message {}", worker_id_,
                   job.id, state.value("stream_seq", std::uint64_t{0}), delivery.stream_seq);
      Ack(msg, "duplicate of job " + job.id);
      natsMsg_Destroy(msg);
      return;
    }
    if (status == "running") {
      spdlog::warn("worker {}: job {}: attempt {} by {} did not finish (worker died or lost its lease); running it "
                   "again from the start as attempt {}",
                   worker_id_, job.id, state.value("attempt", 0), state.value("worker", "?"), delivery.delivered);
    }
    MarkRunningHere(state, delivery.delivered, delivery.stream_seq);
    auto outcome = store.Write(job.id, state, revision, &error);
    if (outcome == WriteOutcome::ok) {
      RunClaimed(msg, job, delivery.delivered, delivery.stream_seq, std::move(state), revision);
      return;
    }
    if (outcome == WriteOutcome::unavailable) {
      spdlog::warn("worker {}: job {}: writing its state: {}; retrying", worker_id_, job.id, error);
      SleepUnlessStopping(std::chrono::milliseconds(500));
    }
    // conflict: someone wrote in between; read again and decide again.
  }
}

bool Worker::ClaimFirstDelivery(natsMsg* msg, const Job& job, std::uint64_t stream_seq) {
  // A first delivery usually finds the state as its publisher left it (or none, for a raw
  // publish): claim it with one write and no read. When that write fails, the caller reads
  // and decides.
  nlohmann::json state;
  std::uint64_t revision = 0;
  const std::string published_revision = HeaderOf(msg, kStateRevisionHeader);
  const std::string queued_at = HeaderOf(msg, kQueuedAtHeader);
  if (!published_revision.empty()) {
    revision = std::strtoull(published_revision.c_str(), nullptr, 10);
    if (revision == 0 || queued_at.empty()) return false;  // garbled: never a blind create
    state = PublishedQueuedState(job, queued_at);
  } else {
    state = JobStateBuilder::Queued(job, NowIso8601());
  }
  MarkRunningHere(state, 1, stream_seq);
  if (JobStateStore(conn_.builds_kv()).Write(job.id, state, revision) != WriteOutcome::ok) return false;
  RunClaimed(msg, job, 1, stream_seq, std::move(state), revision);
  return true;
}

void Worker::MarkRunningHere(nlohmann::json& state, std::uint64_t delivered, std::uint64_t stream_seq) const {
  state["status"] = "running";
  state["worker"] = worker_id_;
  state["attempt"] = delivered;
  state["max_attempts"] = config_.worker.max_retries + 1;
  state["stream_seq"] = stream_seq;
  state["updated_at"] = NowIso8601();
}

}  // namespace kiln
