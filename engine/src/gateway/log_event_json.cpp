#include "gateway/log_event_json.hpp"

namespace kiln {

nlohmann::json LogEventJson(const LogChunk& chunk, std::uint64_t first_line) {
  nlohmann::json data = {{"step", chunk.step},   {"attempt", chunk.attempt}, {"job_attempt", chunk.job_attempt},
                         {"line", first_line},   {"t0", chunk.t0_ms},        {"dt", chunk.dt_ms},
                         {"open", chunk.open},   {"text", chunk.text}};
  if (chunk.is_marker()) {
    data["skipped_lines"] = chunk.skipped_lines;
    data["skipped_bytes"] = chunk.skipped_bytes;
  }
  return data;
}

std::string LogEventId(const LogCursor& after) {
  return std::to_string(after.stream_seq) + ":" + std::to_string(after.line);
}

}  // namespace kiln
