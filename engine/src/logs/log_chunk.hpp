// One message of stream BUILD_LOGS (subject builds.logs.<job id>): a run of consecutive
// lines of one step attempt, as the worker's LogPublisher batched them.
//
// The body is one line of JSON (the chunk's header), a newline, then the text: each line
// followed by '\n', the last one without it when it continues in the next chunk ("open",
// a line longer than a chunk). Keeping the text out of the JSON keeps it as the process
// wrote it (ANSI colour codes and all) and costs no escaping on the hot path.
//
//   {"v":1, "step":"build", "attempt":1, "job_attempt":2, "first_line":1201,
//    "t0":1764900000123, "dt":[0,0,3,...], "open":false, "kept_bytes":1048576}
//   <text>
//
// first_line: the number (from 1, per job attempt) of the first line of the text; when the
// chunk continues an open line, that line's number. t0: Unix time in ms of the first line;
// dt: per line of the text, ms after t0. A marker chunk (past logs.max_bytes) has
// "skipped_lines" and "skipped_bytes" and a one-line text saying what was left out.
// kept_bytes: the text bytes the job's log holds up to the end of this chunk, over all its
// attempts: where the next attempt's publisher learns how much of logs.max_bytes is left.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct LogChunk {
  std::string step;           // "" for lines outside any step (print() in the script body)
  int attempt = 0;            // the step's attempt
  std::uint64_t job_attempt = 0;  // the job-level delivery that ran it
  std::uint64_t first_line = 1;
  std::int64_t t0_ms = 0;
  std::vector<std::int64_t> dt_ms;  // one per line of `text` (an open last line included)
  bool open = false;                // the last line continues in the next chunk
  std::uint64_t skipped_lines = 0;  // a marker chunk: lines left out before the tail
  std::uint64_t skipped_bytes = 0;
  std::uint64_t kept_bytes = 0;     // the job's stored text up to this chunk's end, all attempts
  std::string text;

  bool is_marker() const { return skipped_lines > 0 || skipped_bytes > 0; }
};

/// The message body of `chunk`.
std::string EncodeLogChunk(const LogChunk& chunk);
/// Parses a message body; nullopt (and `error`) when it is not a chunk of this format.
std::optional<LogChunk> DecodeLogChunk(std::string_view body, std::string* error = nullptr);

/// `text` with every byte sequence that is not UTF-8 replaced by U+FFFD, so that a log is
/// valid text for every reader (a browser, JSON) while nothing of it is dropped.
std::string MakeValidUtf8(std::string_view text);
/// The largest n <= max such that text[0, n) does not end inside a UTF-8 sequence (text is
/// valid UTF-8): where a long line may be split between chunks.
std::size_t Utf8CutPoint(std::string_view text, std::size_t max);

}  // namespace kiln
