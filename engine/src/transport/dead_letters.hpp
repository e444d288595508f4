// Dead letters: jobs that will not be run (again), on subject builds.dlq (stream BUILDS_DLQ).
//
// A dead letter's payload is the original message, byte for byte (cut at the server's
// payload limit minus room for the headers, with Kiln-Truncated: true). Why it died is in
// headers, so any NATS tool shows it:
//   Kiln-Job-Id, Kiln-Reason, Kiln-Error (the last error), Kiln-Attempts, Kiln-Worker,
//   Kiln-Time, Kiln-Stream-Seq (its sequence in BUILDS), Nats-Msg-Id "dlq-<seq>" (so a
//   worker that dies between dead-lettering and acking does not make a second one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln {

struct DeadLetter {
  std::string job_id;  // empty when the message had no usable id
  std::string reason;  // "invalid message: commit: ...", "failed after 4 attempts", ...
  std::string error;   // the last error of the job, when it ran
  int attempts = 0;
  std::string worker;
  std::string time;
  std::uint64_t stream_seq = 0;  // in BUILDS
  std::string body;              // the original message
  bool truncated = false;
  std::uint64_t dlq_seq = 0;     // in BUILDS_DLQ (when read back)
};

Result<bool> PublishDeadLetter(NatsConnection& conn, const DeadLetter& letter);
/// The dead letters, oldest first (at most `limit`, the newest ones; 0: all).
Result<std::vector<DeadLetter>> ListDeadLetters(NatsConnection& conn, std::size_t limit = 0);
/// Deletes one dead letter from BUILDS_DLQ (after a replay).
Result<bool> DeleteDeadLetter(NatsConnection& conn, std::uint64_t dlq_seq);

}  // namespace kiln
