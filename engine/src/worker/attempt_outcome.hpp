// What the end of one attempt of a job means for its message and its last event: a pure
// decision, apart from NATS, so that every branch can be tested as a table (tests/worker/
// attempt_outcome_test.cpp). The worker carries it out: it finishes the attempt with the
// event, then acks, naks or hands the message to the dead-letter publisher.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "job/job_runner.hpp"

namespace kiln {

/// How an attempt ended, as the worker knows it once the runner returned.
struct AttemptResult {
  JobStatus status = JobStatus::failed;
  bool retryable = false;
  std::string error;
  /// 1-based: the message's delivery count.
  int attempt = 1;
  /// worker.max_retries + 1.
  int max_attempts = 1;
  /// The worker's shutdown grace ran out and cancelled the attempt.
  bool interrupted_by_shutdown = false;
  /// worker.timeout, for the dead letter's reason.
  std::chrono::milliseconds timeout{0};
  /// worker.retry_delay and worker.retry_max_delay, for JobRetryDelay.
  std::chrono::milliseconds retry_delay{0};
  std::chrono::milliseconds retry_max_delay{0};
};

enum class MessageAction { ack, nak, dead_letter };

struct AttemptOutcome {
  /// The attempt's own terminal event is replaced by a fresh one of this type (and
  /// `event_fields`) rather than amended: a job handed back at shutdown is queued again.
  bool replaces_attempt_event = false;
  /// The type the final event gets; nullopt keeps the attempt's own.
  std::optional<std::string> event_type;
  /// Fields set on the final event.
  nlohmann::json event_fields = nlohmann::json::object();
  MessageAction message = MessageAction::ack;
  /// For MessageAction::nak: when the message comes again (0: at once).
  std::chrono::milliseconds nak_delay{0};
  /// For MessageAction::dead_letter: the letter's reason.
  std::string dead_letter_reason;
};

/// `rng` draws the retry delay's jitter (one generator per slot thread).
AttemptOutcome DecideAttemptOutcome(const AttemptResult& result, std::mt19937_64& rng);

}  // namespace kiln
