// Publishing one job on builds.webhook the way every producer does (kiln submit, the
// scheduler, the gateway): the queued state written first when the id has none, then the
// message with a Nats-Msg-Id (the job id, or the caller's: the gateway uses the GitHub
// delivery id; JetStream drops a repeat within its duplicate window), then the job.queued
// event when this publisher was the one that created the state.
#pragma once

#include <string_view>

#include "job/job.hpp"
#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln {

/// How far a publication got. Kept by the caller across retries, so a retry after a failed
/// publish does not lose the fact that this caller created the state (and owes job.queued).
struct JobPublication {
  bool state_created = false;   // this publisher wrote the queued state (the id was new)
  bool state_checked = false;   // the create was attempted (created, or the id had a state)
  bool published = false;       // the stream acknowledged the message
  bool duplicate = false;       // ... as a duplicate of an earlier message with this id
  bool queued_announced = false;  // job.queued published (only by the state's creator)
};

/// Runs the remaining parts of publishing `job` (`job` must be valid) with header
/// Nats-Msg-Id: `message_id` (empty: the job id). Needs the streams and the KV bucket
/// (EnsureStreams). On error, call again with the same `progress` and `message_id`.
Result<bool> PublishJob(NatsConnection& conn, const Job& job, JobPublication& progress,
                        std::string_view message_id = {});

}  // namespace kiln
