#include "gateway/log_search.hpp"

#include <algorithm>
#include <cstring>

#include "logs/ansi_escapes.hpp"
#include "logs/ascii_case_search.hpp"
#include "transport/log_reader.hpp"

namespace kiln {

namespace {

// Of a longer line only this much is searched: the log of one job may hold 64 MiB (its
// cap), and a search should not hold a copy of it.
constexpr std::size_t kMaxSearchedLineBytes = 1 << 20;

// A line being put together over chunks (a line longer than a chunk comes in pieces).
struct OpenLine {
  std::uint64_t number = 0;
  std::string step;
  int attempt = 0;
  std::string text;
};

}  // namespace

Result<LogSearchResult> SearchLog(NatsConnection& conn, const std::string& job_id, const LogSearchQuery& query) {
  LogSearchResult result;
  OpenLine open;
  bool have_open = false;
  const AsciiCaseSearch search(query.text);

  // True when the search is complete: `limit` matches found. It stops there rather than
  // read on for one more, so the first match of a long log comes back at once.
  auto consider = [&](OpenLine& line) {
    ++result.lines_searched;
    if (line.number <= query.after_line) return false;
    // Most lines have no escape: search them as they are, without a copy.
    const bool coloured = std::memchr(line.text.data(), '\x1b', line.text.size()) != nullptr;
    std::string shown = coloured ? WithoutAnsiEscapes(line.text) : std::string();
    if (!search.FoundIn(coloured ? std::string_view(shown) : std::string_view(line.text))) return false;
    if (!coloured) shown = line.text;
    if (shown.size() > kMaxMatchBytes) shown.resize(Utf8CutPoint(shown, kMaxMatchBytes));
    result.matches.push_back({line.number, line.step, line.attempt, std::move(shown)});
    result.more = result.matches.size() == query.limit;
    return result.more;
  };

  LogReadOptions options;
  options.from_line = query.after_line;
  auto read = ReadLog(conn, job_id, options, [&](const LogPiece& piece) {
    result.job_known = true;
    const LogChunk& chunk = piece.chunk;
    if (chunk.is_marker()) {
      have_open = false;  // what was left out ends any open line
      return true;
    }
    std::uint64_t number = piece.first_line;
    std::size_t start = 0;
    while (start < chunk.text.size()) {
      const std::size_t newline = chunk.text.find('\n', start);
      const std::string_view part(chunk.text.data() + start,
                                  (newline == std::string::npos ? chunk.text.size() : newline) - start);
      if (!(have_open && open.number == number)) {
        open = OpenLine{number, chunk.step, chunk.attempt, {}};
      }
      open.text.append(part.substr(0, kMaxSearchedLineBytes - std::min(open.text.size(), kMaxSearchedLineBytes)));
      have_open = true;
      if (newline == std::string::npos) break;  // continues in the next chunk
      have_open = false;
      if (consider(open)) return false;
      ++number;
      start = newline + 1;
    }
    return true;
  });
  if (!read) return MakeError(read.error());
  if (have_open && !result.more) consider(open);  // the log ended in the middle of a line
  result.job_known = result.job_known || !read->state.is_null();
  return result;
}

}  // namespace kiln
