// Cancelling a job, for `kiln cancel` and the gateway's POST /builds/{id}/cancel: the worker
// running it is asked on builds.cancel.<id> (it stops the job and publishes job.cancelled);
// a job still waiting in the queue is marked cancelled in KV, with its job.cancelled event,
// so that the worker that fetches it acks it without running it.
#pragma once

#include <string>

#include "transport/nats_connection.hpp"

namespace kiln {

struct CancelOutcome {
  enum class Kind {
    worker_asked,      // a worker runs it and was asked to stop it (`worker` names it)
    cancelled_queued,  // it had not started: cancelled in KV, it will never run
    already_ended,     // nothing to do (`status` is how it ended)
    no_such_job,
    worker_silent,     // its state says running, but no worker answered for ~20 s
    unavailable,       // NATS failed (`error`)
  };
  Kind kind = Kind::unavailable;
  std::string worker;
  std::string status;
  std::string error;
};

/// `id` must be a valid job id (IsValidJobId).
CancelOutcome CancelJob(NatsConnection& conn, const std::string& id);

}  // namespace kiln
