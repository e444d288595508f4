// Where a job's events go: the terminal, `--json` lines, NATS (builds.status.<id>), a test.
//
// An event is one JSON object in DESIGN.md's schema, already stamped (job, seq, time,
// worker, type) and redacted when it reaches a sink. publish() is called from the job's
// thread and from the threads of the processes its steps run, one call at a time per job
// (JobEvents serialises them), but from several jobs at once: a sink shared by jobs must
// be thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kiln {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(const nlohmann::json& event) = 0;
  /// The largest event (and job state) this sink can send, in bytes of JSON; 0: no limit.
  /// A step whose outputs would not fit fails (PipelineRuntime), instead of being lost.
  virtual std::size_t max_message_bytes() const { return 0; }
  /// True when the sink keeps the job's log itself (NatsJobSink: stream BUILD_LOGS): its
  /// lines then come to log_line() and are no `step.log` events (JobEvents::log).
  virtual bool takes_log_lines() const { return false; }
  /// One line of a step's log (redacted; `step` empty outside any step). Called from the
  /// threads that read the step's processes: must not block on the network.
  virtual void log_line(std::string_view step, int attempt, std::string_view line) {
    (void)step, (void)attempt, (void)line;
  }
};

}  // namespace kiln
