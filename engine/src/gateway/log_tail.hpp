// The end of a job's stored log, numbered as ReadLog numbers the whole log, for a page that
// opens a long log at its tail (GET /builds/{id}/logs/tail).
//
// Line numbers count the whole log, but each chunk of a job's first attempt carries its own
// (LogChunk::first_line, the publisher's count within the attempt, the lines a capped log
// left out included): so the end of such a log is read alone, the last few chunks, further
// back only while they make less than `keep_bytes`. A log that has a later job attempt
// (a retried job) is numbered across attempts: it is read whole.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "transport/log_reader.hpp"
#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln {

struct LogTail {
  std::deque<LogPiece> pieces;  // the last chunks, first_line and after as ReadLog gives them
  std::uint64_t lines = 0;      // lines stored so far
};

/// The last chunks of job `job_id`'s log whose text makes at least `keep_bytes` (or the
/// whole log). An error names what failed (NATS).
Result<LogTail> ReadLogTail(NatsConnection& conn, const std::string& job_id, std::uint64_t keep_bytes);

}  // namespace kiln
