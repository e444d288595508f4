// GET /builds/{id}/logs/search?q=TEXT[&after=LINE][&limit=N]: the lines of a job's whole
// stored log that contain TEXT, found on the server, so a page can jump to a line it has not
// rendered (a browser holds only the visible window of a large log).
//
// Matching is case-insensitive (ASCII) on the text as shown: ANSI escape sequences are
// removed first, so "error" finds a line a compiler coloured. Lines are numbered as ReadLog
// numbers them (from 1 over the whole log, lines left out past logs.max_bytes counted), the
// numbers the log stream's events carry. A line longer than a chunk is searched as one line,
// up to its first MiB.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln {

struct LogSearchQuery {
  std::string text;              // what to find: 1..kMaxQueryBytes bytes
  std::uint64_t after_line = 0;  // only lines after this one (paging: the last match's line)
  std::size_t limit = 100;       // at most this many matches
};

struct LogMatch {
  std::uint64_t line = 0;
  std::string step;
  int attempt = 0;
  std::string text;  // the line as shown (escapes removed), cut at kMaxMatchBytes
};

struct LogSearchResult {
  bool job_known = false;  // a state or a stored chunk exists for the id
  std::vector<LogMatch> matches;
  bool more = false;  // it stopped at `limit` matches: there may be more after the last one
  std::uint64_t lines_searched = 0;
};

inline constexpr std::size_t kMaxQueryBytes = 256;
inline constexpr std::size_t kMaxMatchBytes = 1000;
inline constexpr std::size_t kMaxSearchLimit = 1000;

/// Searches job `job_id`'s stored log. An error names what failed (NATS).
Result<LogSearchResult> SearchLog(NatsConnection& conn, const std::string& job_id, const LogSearchQuery& query);

}  // namespace kiln
