// Sending a dead-lettered job back, for `kiln dlq replay` and the gateway's
// POST /builds/{id}/replay: its original message is published again on builds.jobs (under a
// message id of its own, so the duplicate window does not drop it), its state is reset to
// queued (a worker runs only a job whose state is not terminal), and the dead letter goes.
#pragma once

#include <cstdint>
#include <string>

#include "job/job.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

struct ReplayOutcome {
  enum class Kind {
    replayed,        // `job_id` is queued again; `warning` says if the dead letter stayed
    no_dead_letter,  // none for that job id or dead letter sequence
    cannot_run,      // the dead letter's message is no job (`error` says why)
    unavailable,     // NATS failed (`error`)
  };
  Kind kind = Kind::unavailable;
  std::string job_id;
  std::uint64_t dlq_seq = 0;
  std::string error;
  std::string warning;
};

/// `id`: a job id, or a dead letter's sequence number; the newest dead letter of a job wins.
/// `rules`: what a message must be to run (ParseJob), as the workers check it.
ReplayOutcome ReplayDeadLetter(NatsConnection& conn, const std::string& id, const JobRules& rules);

}  // namespace kiln
