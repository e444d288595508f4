// The event stream of one job: stamps each event with job id, sequence number, time and
// worker, redacts it, and hands it to the sink. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "events/event_sink.hpp"

namespace kiln {

class Redactor;

/// The event types of DESIGN.md.
namespace event_type {
inline constexpr std::string_view kJobQueued = "job.queued";
inline constexpr std::string_view kJobStarted = "job.started";
inline constexpr std::string_view kStepStarted = "step.started";
inline constexpr std::string_view kStepLog = "step.log";
inline constexpr std::string_view kStepProgress = "step.progress";
inline constexpr std::string_view kStepRetrying = "step.retrying";
inline constexpr std::string_view kStepFinished = "step.finished";
inline constexpr std::string_view kJobSucceeded = "job.succeeded";
inline constexpr std::string_view kJobFailed = "job.failed";
inline constexpr std::string_view kJobCancelled = "job.cancelled";
inline constexpr std::string_view kJobTimedOut = "job.timed_out";
inline constexpr std::string_view kJobDead = "job.dead";
bool IsTerminal(std::string_view type);
/// Not an event of DESIGN.md and never published: what a worker's sink tells its observer
/// (the metrics) when an attempt lost its lease, the one end of an attempt without an event.
inline constexpr std::string_view kAttemptLeaseLost = "attempt.lease_lost";
}  // namespace event_type

/// "2026-11-22T10:15:02.118Z", UTC with milliseconds.
std::string NowIso8601();

class JobEvents {
 public:
  JobEvents(std::string job_id, std::string worker, const Redactor* redactor, EventSink& sink,
            std::uint64_t first_seq = 1);

  /// Publishes {job, seq, time, worker, type, ...fields}; returns the event as published.
  nlohmann::json emit(std::string_view type, nlohmann::json fields = nlohmann::json::object());

  /// A line of a step's log (`step` nullopt outside any step; `level` "warn" or empty): to
  /// the sink's own log when it keeps one (EventSink::takes_log_lines), else a `step.log`
  /// event as before.
  void log(std::optional<std::string_view> step, int attempt, std::string_view message,
           std::string_view level = {});
  /// log() of a line already through this job's Redactor: a step's output and its plugin's
  /// log lines (RuntimeStepContext masks each before reporting it). Not masked a second
  /// time: a build prints millions of lines, and one pass over each is enough.
  void log_redacted(std::string_view step, int attempt, std::string_view line);

  const std::string& job_id() const { return job_id_; }
  std::uint64_t next_seq() const;
  /// The sink's EventSink::max_message_bytes().
  std::size_t max_message_bytes() const { return sink_.max_message_bytes(); }

 private:
  // A `step.log` event, for a sink that keeps no log of its own.
  void LogEvent(std::optional<std::string_view> step, int attempt, std::string_view message,
                std::string_view level);

  std::string job_id_;
  std::string worker_;
  const Redactor* redactor_;
  EventSink& sink_;
  mutable std::mutex mutex_;
  std::uint64_t seq_;
};

}  // namespace kiln
