// Publishing one job on builds.webhook the way every producer does (kiln submit, the
// scheduler, the gateway): the queued state written first when the id has none, then the
// message with a Nats-Msg-Id (the job id, or the caller's: the gateway uses the GitHub
// delivery id; JetStream drops a repeat within its duplicate window), then the job.queued
// event when this publisher was the one that created the state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

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
  std::uint64_t state_revision = 0;  // the queued state's revision, when this publisher wrote it
  std::string queued_at;             // and its queued_at
};

/// Headers of a job message whose publisher created its queued state: its revision and its
/// queued_at, from which the worker rebuilds that state and claims the job with one
/// compare-and-set write instead of a read and a write (bench/worker). A stale value only
/// makes that write fail (every later write of the state has a higher revision), and the
/// worker then reads the state as usual. The headers are trusted as far as the publisher
/// is: whoever may publish on builds.webhook may submit any job anyway.
inline constexpr const char* kStateRevisionHeader = "Kiln-State-Revision";
inline constexpr const char* kQueuedAtHeader = "Kiln-Queued-At";

/// The queued state a publisher writes for a new job (its job.queued event is seq 1).
nlohmann::json PublishedQueuedState(const Job& job, const std::string& queued_at);

/// Runs the remaining parts of publishing `job` (`job` must be valid) with header
/// Nats-Msg-Id: `message_id` (empty: the job id). Needs the streams and the KV bucket
/// (EnsureStreams). On error, call again with the same `progress` and `message_id`.
Result<bool> PublishJob(NatsConnection& conn, const Job& job, JobPublication& progress,
                        std::string_view message_id = {});

}  // namespace kiln
