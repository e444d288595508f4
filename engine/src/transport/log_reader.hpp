// THE READ API OF BUILD LOGS: read a job's log from stream BUILD_LOGS, from its start or
// from any line, and follow it while the job runs. For `kiln logs` and for any page that
// shows a log live (the gateway's, next): build on ReadLog, not on the stream.
//
// Resuming. Each chunk comes with a LogCursor: the JetStream sequence of that chunk and the
// number of lines up to its end. A reader that stops (a browser that reconnects, a network
// cut) and calls ReadLog again with the last cursor it got continues with the next chunk:
// no line missed, none repeated, whatever was published in between. The stream sequence is
// the resume point because it is what the server can start a consumer at; the line number
// comes along so the reader can keep counting (an SSE page sends the cursor as its event
// id: "<stream_seq>:<line>").
//
// Lines are numbered from 1 over the job's whole log in the order stored (all attempts
// one after the other; the lines a capped log left out count too, so the tail keeps its
// numbers). LogChunk::first_line is the publisher's count within its job attempt.
//
// Follow ends when the job's state (KV "builds") is terminal and every chunk stored up to
// then was delivered: the worker stores the log before it writes that state
// (NatsJobSink::Finish). A job in "retrying" is followed into its next attempt.
//
// Runs on the caller's thread; a NatsConnection may serve several readers at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "logs/log_chunk.hpp"
#include "transport/nats_connection.hpp"
#include "util/cancellation.hpp"
#include "util/result.hpp"

namespace kiln {

/// Where a reader is: after the chunk at `stream_seq` (0: before the first), having passed
/// `line` lines.
struct LogCursor {
  std::uint64_t stream_seq = 0;
  std::uint64_t line = 0;
};

/// One chunk as read: `first_line` is the number (over the whole log) of its first line, or
/// of the line it continues; a marker's first_line is the first line it stands for.
struct LogPiece {
  LogChunk chunk;
  std::uint64_t first_line = 0;
  LogCursor after;  // resume here to read what follows this chunk
};

struct LogReadOptions {
  LogCursor from;               // resume point; the default reads from the start
  std::uint64_t from_line = 0;  // skip the chunks that end before this line (0, 1: none)
  bool follow = false;          // wait for more until the job has ended
  const CancellationToken* stop = nullptr;  // may be null
  std::chrono::milliseconds poll{200};      // how often a follower looks at the job's state
  // A follower of an id with neither a state nor a stored chunk gives up after this (state
  // null, nothing read): such a job never existed, or was published straight to
  // builds.jobs (kiln submit and the gateway write "queued" first) and no worker has
  // claimed it yet, which takes a moment when workers are idle.
  std::chrono::milliseconds unknown_job_wait{5000};
};

struct LogReadEnd {
  LogCursor cursor;     // after the last chunk delivered
  nlohmann::json state; // the job's state when reading ended (null: no state for the id)
  bool stopped = false; // `stop` or the callback ended it early
};

/// Calls `on_piece` for each chunk of job `job_id`'s log after options.from, in stream
/// order; it returns false to stop. Without follow, reads what is stored now. An error
/// names what failed (NATS, a stream missing).
Result<LogReadEnd> ReadLog(NatsConnection& conn, const std::string& job_id, const LogReadOptions& options,
                           const std::function<bool(const LogPiece&)>& on_piece);

/// Lines whose text ends in the chunk: its newlines (a marker stands for its skipped lines).
std::uint64_t LinesEndingIn(const LogChunk& chunk);

}  // namespace kiln
