// A job's state as kept in KV bucket "builds" under its id (DESIGN.md): the events of the
// job folded into one JSON document.
//
//   { "id", "status", "repo": {url, name}, "commit", "branch", "pipeline", "env" (the
//     message's, when it has one), "trusted" (false only: a fork's pull request),
//     "worker", "attempt" (the job-level delivery that runs it), "max_attempts",
//     "steps": [ { "name", "status", "attempts", "duration_ms", "started", "finished",
//                  "error", "outputs", "log_lines", "log_bytes" } ],
//     "log": { "subject" (on stream BUILD_LOGS), "lines", "bytes" } of the current attempt,
//     "outputs", "error", "reason" (why dead-lettered), "retry_at",
//     "queued_at", "started_at", "finished_at", "updated_at", "duration_ms",
//     "next_seq" (the seq the next attempt's first event takes) }
//
// status: queued, running, retrying (nak'ed, waiting for redelivery), succeeded, failed,
// cancelled, timed_out, dead. The terminal ones (IsTerminalStatus) are never run again.
//
// Not thread-safe: one builder per job, used under the sink's lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "job/job.hpp"

namespace kiln {

bool IsTerminalStatus(std::string_view status);
/// One of the statuses above.
bool IsJobStatus(std::string_view status);

class JobStateBuilder {
 public:
  JobStateBuilder() = default;
  /// Starts from a stored state (a later attempt keeps the earlier attempts' history).
  explicit JobStateBuilder(nlohmann::json state);

  /// A new state for `job`: status queued.
  static nlohmann::json Queued(const Job& job, const std::string& now);

  /// Folds one event in (DESIGN.md's schema). Returns true when the state changed in a way
  /// worth writing (not for every log line).
  bool apply(const nlohmann::json& event);

  /// Sets the log counts of step `name` ("log_lines", "log_bytes"), when the state has it.
  void record_log(const std::string& name, std::uint64_t lines, std::uint64_t bytes);

  nlohmann::json& state() { return state_; }
  const nlohmann::json& state() const { return state_; }

 private:
  nlohmann::json& step(const std::string& name);
  nlohmann::json state_ = nlohmann::json::object();
};

}  // namespace kiln
