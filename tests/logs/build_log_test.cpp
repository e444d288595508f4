// Build logs through a real nats-server and real `kiln worker` processes: every line of a
// noisy step in stream BUILD_LOGS (none as events), the cap keeping head, tail and a marker,
// a follower that stops and resumes with no gap and no repeat, secrets masked across read,
// chunk and line boundaries, invalid UTF-8 made valid, a 1 MiB line kept whole.
#include <cstdlib>
#include <map>

#include "transport/log_publisher.hpp"
#include "transport/log_reader.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

struct ReadBack {
  std::vector<LogPiece> pieces;
  std::vector<std::string> lines;  // the text of every non-marker chunk, split into lines
  LogReadEnd end;
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class BuildLog : public WorkerTest {
 protected:
  void UseConfigExtra(const std::string& extra) {
    WriteFile(config_path(), ReadFile(config_path()) + extra);
  }
  ReadBack Read(const std::string& id, LogReadOptions options = {}) {
    ReadBack back;
    std::string text;
    auto end = ReadLog(*client_, id, options, [&](const LogPiece& piece) {
      back.pieces.push_back(piece);
      if (!piece.chunk.is_marker()) text += piece.chunk.text;
      return true;
    });
    EXPECT_TRUE(end.ok()) << (end.ok() ? "" : end.error());
    if (end.ok()) back.end = end.value();
    back.lines = SplitLines(text);
    return back;
  }
  static std::vector<std::string> Numbers(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) out.push_back(std::to_string(i));
    return out;
  }
};

TEST_F(BuildLog, KeepsEveryLineOfANoisyStepAndNoLineIsAnEvent) {
  WritePipeline("noisy", "kiln.step(\"noisy\", function() kiln.exec{ cmd = { \"seq\", \"1\", \"200000\" } } end)\n");
  StartWorker();
  PublishJob("noisy-1", "noisy");
  nlohmann::json state = WaitForStatus("noisy-1", {"succeeded"});
  ASSERT_FALSE(state.is_null());

  ReadBack back = Read("noisy-1");
  EXPECT_EQ(back.lines, Numbers(1, 200000));
  EXPECT_GT(back.pieces.size(), 10u) << "batched into chunks of at most kChunkBytes and kChunkLines";
  for (const auto& piece : back.pieces) {
    EXPECT_EQ(piece.chunk.step, "noisy");
    EXPECT_EQ(piece.chunk.job_attempt, 1u);
    EXPECT_EQ(piece.chunk.dt_ms.size(), static_cast<std::size_t>(LinesEndingIn(piece.chunk)));
    EXPECT_LE(piece.chunk.text.size(), LogPublisher::kChunkBytes);
  }
  EXPECT_EQ(back.end.cursor.line, 200000u);
  ASSERT_TRUE(state["steps"].is_array());
  EXPECT_EQ(state["steps"][0].value("log_lines", 0), 200000);
  EXPECT_EQ(state["steps"][0].value("log_bytes", 0), 1288895);  // `seq 1 200000 | wc -c`
  EXPECT_EQ(state["log"].value("lines", 0), 200000);

  for (const auto& event : StoredEvents(*client_, "builds.status.noisy-1", 500)) {
    EXPECT_NE(event.value("type", ""), "step.log") << "log lines stay out of BUILD_EVENTS";
  }
}

TEST_F(BuildLog, PastTheCapKeepsTheHeadTheTailAndAMarker) {
  UseConfigExtra("logs: { max_bytes: 1MiB }\n");
  WritePipeline("huge", "kiln.step(\"huge\", function() kiln.exec{ cmd = { \"seq\", \"1\", \"400000\" } } end)\n");
  StartWorker();
  PublishJob("huge-1", "huge");
  ASSERT_FALSE(WaitForStatus("huge-1", {"succeeded"}).is_null());

  ReadBack back = Read("huge-1");
  int markers = 0;
  std::uint64_t skipped = 0;
  for (const auto& piece : back.pieces) {
    if (!piece.chunk.is_marker()) continue;
    ++markers;
    skipped = piece.chunk.skipped_lines;
    EXPECT_NE(piece.chunk.text.find("left out"), std::string::npos) << piece.chunk.text;
  }
  ASSERT_EQ(markers, 1);
  ASSERT_FALSE(back.lines.empty());
  EXPECT_EQ(back.lines.front(), "1");
  EXPECT_EQ(back.lines.back(), "400000");
  EXPECT_EQ(back.lines.size() + skipped, 400000u) << "head + tail + left out = every line";
  // Head and tail are each consecutive, and the tail goes on where the left-out lines end.
  std::size_t i = 1;
  while (i < back.lines.size() && std::stoul(back.lines[i]) == std::stoul(back.lines[i - 1]) + 1) ++i;
  ASSERT_LT(i, back.lines.size());
  EXPECT_EQ(std::stoul(back.lines[i]), std::stoul(back.lines[i - 1]) + skipped + 1);
  EXPECT_EQ(back.end.cursor.line, 400000u) << "the left-out lines count, so the tail keeps its numbers";
}

TEST_F(BuildLog, TheCapIsPerJobSoARetriedAttemptGetsNoFreshOne) {
  WorkerSettings settings;
  settings.max_retries = 1;  // two attempts
  WriteConfig(settings);
  UseConfigExtra("logs: { max_bytes: 1MiB }\n");
  // Each attempt prints 2.6 MB, then fails in a way the worker retries.
  WritePipeline("retried", R"(kiln.step("retried", { retry = { attempts = 1 } }, function()
    kiln.exec{ cmd = { "seq", "1", "400000" } }
    kiln.retryable("again")
  end))");
  StartWorker();
  PublishJob("retried-1", "retried");
  nlohmann::json state = WaitForStatus("retried-1", {"dead"}, std::chrono::seconds(90));
  ASSERT_FALSE(state.is_null());
  ASSERT_EQ(state["attempt"], 2);

  ReadBack back = Read("retried-1");
  std::uint64_t kept = 0;
  std::map<std::uint64_t, std::string> text_by_attempt;
  std::map<std::uint64_t, int> markers_by_attempt;
  for (const auto& piece : back.pieces) {
    kept += piece.chunk.text.size();
    if (piece.chunk.is_marker()) {
      ++markers_by_attempt[piece.chunk.job_attempt];
    } else {
      text_by_attempt[piece.chunk.job_attempt] += piece.chunk.text;
    }
  }
  // 1 MiB for the job, plus what an attempt that finds it spent still keeps: its marker and
  // its last line.
  EXPECT_LE(kept, (1u << 20) + 1024) << "the second attempt must not start a fresh 1 MiB";
  EXPECT_EQ(markers_by_attempt[1], 1);
  EXPECT_EQ(markers_by_attempt[2], 1);
  ASSERT_FALSE(text_by_attempt[2].empty());
  EXPECT_EQ(SplitLines(text_by_attempt[2]).back(), "400000") << "the retry's log still ends where it failed";
  EXPECT_EQ(SplitLines(text_by_attempt[1]).front(), "1");
  EXPECT_EQ(back.end.cursor.line, 800000u) << "every line counted, kept or not";
}

TEST_F(BuildLog, AFollowerThatStopsAndResumesGetsNoGapAndNoRepeat) {
  WritePipeline("slow", R"(kiln.step("slow", function()
    kiln.exec{ cmd = { "sh", "-c", "for i in $(seq 1 400); do echo $i; case $i in *0) sleep 0.02;; esac; done" } }
  end))");
  StartWorker();
  PublishJob("slow-1", "slow");

  std::vector<std::string> seen;
  LogCursor cursor;
  int sessions = 0;
  int status_code = -1;
  // Each session reads two chunks and hangs up, as a browser that reconnects would.
  while (status_code < 0 && sessions < 500) {
    ++sessions;
    LogReadOptions options;
    options.from = cursor;
    options.follow = true;
    int taken = 0;
    std::string partial;
    auto end = ReadLog(*client_, "slow-1", options, [&](const LogPiece& piece) {
      EXPECT_EQ(piece.first_line, cursor.line + 1) << "no gap, no repeat";
      for (auto& line : SplitLines(piece.chunk.text)) seen.push_back(line);
      cursor = piece.after;
      return ++taken < 2;
    });
    ASSERT_TRUE(end.ok()) << end.error();
    if (!end->stopped) status_code = end->state.value("status", "") == "succeeded" ? 0 : 1;
  }
  EXPECT_EQ(status_code, 0);
  EXPECT_GT(sessions, 2);
  EXPECT_EQ(seen, Numbers(1, 400));
}

TEST_F(BuildLog, SecretsAreMaskedAcrossReadChunkAndLineBoundaries) {
  const std::string key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUtcGxhbnRlZC1rZXk=\n"
      "c2Vjb25kLWxpbmUtb2YtdGhlLXBsYW50ZWQta2V5LTg4MjE=\n-----END OPENSSH PRIVATE KEY-----";
  ::setenv("KILN_LOG_KEY", key.c_str(), 1);
  ::setenv("KILN_LOG_TOKEN", "tok-5f2b9c8e-straddling-secret", 1);
  UseConfigExtra("secrets:\n  key: env:KILN_LOG_KEY\n  token: env:KILN_LOG_TOKEN\n");
  // The token is written in two halves 200 ms apart (two reads, likely two chunks); a line
  // longer than a chunk (LogPublisher::kChunkBytes, 256 KiB) puts it across a chunk boundary
  // too; the key spans four lines.
  WritePipeline("leaky", R"(kiln.step("leaky", function()
    local t = kiln.secret("token")
    local k = kiln.secret("key")
    kiln.exec{ cmd = { "sh", "-c", [[printf 'a %s' "${T%%-straddling*}"; sleep 0.3; printf '%s b\n' "-straddling-secret";
      printf '%s\n' "$K"; head -c 262138 /dev/zero | tr '\0' x; printf '%s\n' "$T"]] }, env = { T = t, K = k } }
  end))");
  StartWorker();
  PublishJob("leaky-1", "leaky");
  ASSERT_FALSE(WaitForStatus("leaky-1", {"succeeded"}).is_null());
  ::unsetenv("KILN_LOG_KEY");
  ::unsetenv("KILN_LOG_TOKEN");

  ReadBack back = Read("leaky-1");
  std::string all;
  for (const auto& piece : back.pieces) all += piece.chunk.text;
  EXPECT_EQ(all.find("5f2b9c8e"), std::string::npos);
  EXPECT_EQ(all.find("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUtcGxhbnRlZC1rZXk="), std::string::npos);
  EXPECT_EQ(all.find("c2Vjb25kLWxpbmUtb2YtdGhlLXBsYW50ZWQta2V5LTg4MjE="), std::string::npos);
  ASSERT_GE(back.lines.size(), 3u);
  EXPECT_EQ(back.lines[0], "a *** b");
  EXPECT_EQ(back.lines[1], "***");
  EXPECT_EQ(back.lines[2], std::string(262138, 'x') + "***");
}

TEST_F(BuildLog, InvalidUtf8IsMadeValidAndAOneMebibyteLineIsKeptWhole) {
  WritePipeline("bytes", R"(kiln.step("bytes", function()
    kiln.exec{ cmd = { "sh", "-c", [[printf '\377\376ok \033[31mred\033[0m\n'; head -c 1048576 /dev/zero | tr '\0' y; echo; echo end]] } }
  end))");
  StartWorker();
  PublishJob("bytes-1", "bytes");
  ASSERT_FALSE(WaitForStatus("bytes-1", {"succeeded"}).is_null());

  ReadBack back = Read("bytes-1");
  ASSERT_EQ(back.lines.size(), 3u);
  EXPECT_EQ(back.lines[0], "\xEF\xBF\xBD\xEF\xBF\xBDok \x1b[31mred\x1b[0m") << "colour codes kept, bad bytes U+FFFD";
  EXPECT_EQ(back.lines[1], std::string(1 << 20, 'y'));
  EXPECT_EQ(back.lines[2], "end");
  EXPECT_EQ(back.end.cursor.line, 3u);
}

TEST_F(BuildLog, AWorkerKilledMidLogThenTheRerunShowsBothAttemptsLabelled) {
  WorkerSettings settings;
  settings.ack_wait = "2s";  // redelivered soon after the kill
  WriteConfig(settings);
  WritePipeline("chatty", R"(kiln.step("chatty", function()
    kiln.exec{ cmd = { "sh", "-c", "seq 1 20; sleep 3" } }
  end))");
  auto& first = StartWorker();
  PublishJob("chatty-1", "chatty");
  // Kill the worker once its first lines are stored (within a chunk delay of being printed).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Read("chatty-1").lines.size() < 20 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  first.Signal(SIGKILL);
  ASSERT_EQ(first.Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  StartWorker();
  nlohmann::json state = WaitForStatus("chatty-1", {"succeeded"}, std::chrono::seconds(60));
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["attempt"], 2);

  ReadBack back = Read("chatty-1");
  std::map<std::uint64_t, std::string> by_attempt;
  for (const auto& piece : back.pieces) by_attempt[piece.chunk.job_attempt] += piece.chunk.text;
  ASSERT_EQ(by_attempt.size(), 2u);
  std::string expected;
  for (int i = 1; i <= 20; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(by_attempt[1], expected);
  EXPECT_EQ(by_attempt[2], expected);
  EXPECT_EQ(back.end.cursor.line, 40u) << "numbered over the whole log";

  std::string out;
  EXPECT_EQ(RunKiln("logs chatty-1 --attempt 2", &out), 0) << out;
  EXPECT_NE(out.find("==> step chatty (attempt 1, job attempt 2) <=="), std::string::npos) << out;
  EXPECT_EQ(out.find("job attempt 1)"), std::string::npos) << out;
  EXPECT_NE(out.find("\n20\n"), std::string::npos) << out;
}

TEST_F(BuildLog, KilnLogsFollowExitsWithTheJobsResult) {
  WritePipeline("fails", R"(kiln.step("fails", function()
    kiln.exec{ cmd = { "sh", "-c", "printf '\\033[1mbold\\033[0m\\n'; sleep 1; echo last" } }
    kiln.fail("on purpose")
  end))");
  WorkerSettings settings;
  settings.max_retries = 0;
  WriteConfig(settings);
  StartWorker();
  PublishJob("fails-1", "fails");
  std::string out;
  EXPECT_EQ(RunKiln("logs fails-1 --follow --timestamps", &out), 1) << out;
  EXPECT_NE(out.find("Z bold\n"), std::string::npos) << "piped: colour stripped, timestamped: " << out;
  EXPECT_NE(out.find("Z last\n"), std::string::npos) << out;
  std::string raw;
  EXPECT_EQ(RunKiln("logs fails-1 --raw", &raw), 0) << raw;
  EXPECT_EQ(raw, "\x1b[1mbold\x1b[0m\nlast\n");
}

TEST_F(BuildLog, KilnLogsFollowOfAnIdThatNeverExistedFailsNamingIt) {
  StartWorker();
  std::string out;
  const auto started = std::chrono::steady_clock::now();
  // `timeout` turns the old behaviour, waiting for ever, into a failure of this test.
  EXPECT_EQ(Shell("timeout 60 " + KilnBinary() + " logs no-such-job --follow --config '" + config_path() + "' 2>&1", &out),
            2)
      << out;
  EXPECT_NE(out.find("no job with id 'no-such-job'"), std::string::npos) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
}

}  // namespace
}  // namespace kiln::testing
