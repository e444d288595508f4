// A stored log chunk as the build page gets it, from the log stream (GET
// /builds/{id}/logs, one event per chunk) and from the log's tail (GET
// /builds/{id}/logs/tail): the same object and the same id in both, so the page keeps one
// store of lines whichever way a chunk came.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "logs/log_chunk.hpp"
#include "transport/log_reader.hpp"

namespace kiln {

/// {"step", "attempt", "job_attempt", "line" (of the chunk's first line over the whole
/// log), "t0", "dt", "open", "text"}, and "skipped_lines"/"skipped_bytes" on a marker.
nlohmann::json LogEventJson(const LogChunk& chunk, std::uint64_t first_line);

/// "<stream_seq>:<line>": where a reader resumes after the chunk (Last-Event-ID).
std::string LogEventId(const LogCursor& after);

}  // namespace kiln
