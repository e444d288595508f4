#include "worker/attempt_outcome.hpp"

#include "events/job_events.hpp"
#include "worker/job_retry_delay.hpp"

namespace kiln {

AttemptOutcome DecideAttemptOutcome(const AttemptResult& result, std::mt19937_64& rng) {
  AttemptOutcome out;
  if (result.interrupted_by_shutdown && result.status != JobStatus::succeeded) {
    // Shutdown after the grace period: the job runs again elsewhere, from the start.
    out.replaces_attempt_event = true;
    out.event_type = std::string(event_type::kJobQueued);
    out.event_fields = {{"message", "worker shutting down; the job will run again"}};
    out.message = MessageAction::nak;
    return out;
  }
  switch (result.status) {
    case JobStatus::succeeded:
    case JobStatus::cancelled:
      out.message = MessageAction::ack;
      return out;
    case JobStatus::timed_out:
      out.event_fields = {{"reason", "timed out (worker.timeout)"}, {"dead_lettered", true}};
      out.message = MessageAction::dead_letter;
      out.dead_letter_reason = "timed out after " + std::to_string(result.timeout.count()) + " ms";
      return out;
    case JobStatus::failed:
      break;
  }
  if (result.retryable && result.attempt < result.max_attempts) {
    auto delay = JobRetryDelay(result.attempt, result.retry_delay, result.retry_max_delay, rng);
    out.event_fields = {{"will_retry", true}, {"retry_in_ms", delay.count()}};
    out.message = MessageAction::nak;
    out.nak_delay = delay;
    return out;
  }
  std::string reason =
      result.retryable ? "failed after " + std::to_string(result.attempt) + " attempts" : "terminal failure";
  out.event_type = std::string(event_type::kJobDead);
  out.event_fields = {{"reason", reason}, {"attempts", result.attempt}};
  if (!result.error.empty()) out.event_fields["error"] = result.error;
  out.message = MessageAction::dead_letter;
  out.dead_letter_reason = std::move(reason);
  return out;
}

}  // namespace kiln
