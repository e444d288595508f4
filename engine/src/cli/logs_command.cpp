// kiln logs ID [--step NAME] [--attempt N] [--follow] [--timestamps] [--raw]
// A job's log from stream BUILD_LOGS (transport/log_reader.hpp), step by step with a header
// line for each step attempt. --follow keeps reading until the job ends and exits with its
// result (0 succeeded, 1 otherwise); an id that no job has exits 2, --follow included.
// Colour codes are kept on a terminal and stripped when the output is piped; --raw prints
// the text as the process wrote it, without headers.
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "logs/ansi_escapes.hpp"
#include "transport/command_connection.hpp"
#include "transport/log_reader.hpp"

namespace kiln::cli {

namespace {

struct LogsOptions {
  std::string id;
  std::string step;
  int attempt = 0;  // the job attempt; 0: all
  bool follow = false;
  bool timestamps = false;
  bool raw = false;
};

std::string Timestamp(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ ", static_cast<int>(ms % 1000));
  return buffer;
}

int Logs(const GlobalOptions& global, const LogsOptions& opts) {
  auto session = OpenCommandSession(global, "kiln logs");
  if (!session) {
    std::cerr << "kiln logs: " << session.error() << "\n";
    return 2;
  }
  const bool strip = !opts.raw && ::isatty(STDOUT_FILENO) == 0;
  std::string last_header;
  bool at_line_start = true;
  LogReadOptions read;
  read.follow = opts.follow;
  auto result = ReadLog(*session->conn, opts.id, read, [&](const LogPiece& piece) {
    const LogChunk& chunk = piece.chunk;
    if (!opts.step.empty() && chunk.step != opts.step) return true;
    if (opts.attempt > 0 && chunk.job_attempt != static_cast<std::uint64_t>(opts.attempt)) return true;
    const std::string header = "==> " + (chunk.step.empty() ? std::string("(script)") : "step " + chunk.step) +
                               " (attempt " + std::to_string(chunk.attempt) + ", job attempt " +
                               std::to_string(chunk.job_attempt) + ") <==";
    if (!opts.raw && header != last_header) {
      if (!at_line_start) std::cout << "\n";
      std::cout << header << "\n";
      last_header = header;
      at_line_start = true;
    }
    std::string_view text(chunk.text);
    std::size_t index = 0;
    while (!text.empty()) {
      const std::size_t newline = text.find('\n');
      std::string_view line = text.substr(0, newline);
      if (opts.timestamps && at_line_start) {
        const std::int64_t dt = index < chunk.dt_ms.size() ? chunk.dt_ms[index] : 0;
        std::cout << Timestamp(chunk.t0_ms + dt);
      }
      std::cout << (strip ? WithoutAnsiEscapes(line) : std::string(line));
      if (newline == std::string_view::npos) {
        at_line_start = false;
        break;
      }
      std::cout << "\n";
      at_line_start = true;
      ++index;
      text.remove_prefix(newline + 1);
    }
    if (chunk.is_marker() && !at_line_start) {
      std::cout << "\n";
      at_line_start = true;
    }
    if (opts.follow) std::cout.flush();  // a follower sees each chunk as it comes, piped or not
    return true;
  });
  std::cout.flush();
  if (!result) {
    std::cerr << "kiln logs: " << result.error() << "\n";
    return 2;
  }
  if (result->state.is_null() && result->cursor.stream_seq == 0) {
    std::cerr << "kiln logs: no job with id '" << opts.id << "'\n";
    return 2;
  }
  if (opts.follow && !result->stopped) return result->state.value("status", "") == "succeeded" ? 0 : 1;
  return 0;
}

}  // namespace

void AddLogsCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<LogsOptions>();
  auto* logs = app.add_subcommand("logs", "a job's log, step by step (stream BUILD_LOGS)");
  logs->add_option("ID", opts->id, "job id")->required();
  logs->add_option("--step", opts->step, "only the lines of this step");
  logs->add_option("--attempt", opts->attempt, "only the lines of this job attempt (1, 2, ...)")
      ->check(CLI::PositiveNumber);
  logs->add_flag("--follow,-f", opts->follow, "keep reading until the job ends; exit 0 if it succeeded, else 1");
  logs->add_flag("--timestamps", opts->timestamps, "each line with the time it was read (UTC)");
  logs->add_flag("--raw", opts->raw, "the text as written (colour codes kept), no step headers");
  AddNatsOptions(logs, global);
  logs->callback([&global, &exit_code, opts] { exit_code = Logs(global, *opts); });
}

}  // namespace kiln::cli
