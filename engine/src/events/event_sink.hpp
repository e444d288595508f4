// Where a job's events go: the terminal, `--json` lines, NATS (builds.status.<id>), a test.
//
// An event is one JSON object in DESIGN.md's schema, already stamped (job, seq, time,
// worker, type) and redacted when it reaches a sink. publish() is called from the job's
// thread and from the threads of the processes its steps run, one call at a time per job
// (JobEvents serialises them), but from several jobs at once: a sink shared by jobs must
// be thread-safe.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

namespace kiln {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(const nlohmann::json& event) = 0;
  /// The largest event (and job state) this sink can send, in bytes of JSON; 0: no limit.
  /// A step whose outputs would not fit fails (PipelineRuntime), instead of being lost.
  virtual std::size_t max_message_bytes() const { return 0; }
};

}  // namespace kiln
