// The process runner on real processes: process groups, no child outliving its step,
// scrubbed environment, bounded tail, redaction, start errors.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "process/process_cgroup.hpp"
#include "process/process_runner.hpp"
#include "secrets/redactor.hpp"
#include "support/temp_dir.hpp"

namespace kiln {
namespace {

using testing::ReadFile;
using testing::TempDir;

ProcessRunOptions OptionsIn(const TempDir& dir) {
  ProcessRunOptions options;
  options.default_cwd = dir.str();
  options.base_env = ScrubbedEnvironment(dir.str());
  return options;
}

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

void WaitGone(pid_t pid) {
  for (int i = 0; i < 200 && Alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST(ProcessRunner, RunsWithoutAShellAndReportsTheExitCode) {
  TempDir dir;
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo hello; exit 7"};
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  EXPECT_TRUE(result.started);
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_EQ(result.output_tail, "hello\n");
  // argv is passed as is: no shell expands this.
  spec.argv = {"echo", "$HOME", "*"};
  EXPECT_EQ(RunProcess(spec, OptionsIn(dir)).output_tail, "$HOME *\n");
}

TEST(ProcessRunner, StreamsEachLineAndMergesStderr) {
  TempDir dir;
  std::vector<std::string> lines;
  ProcessRunOptions options = OptionsIn(dir);
  options.on_line = [&](std::string_view line) { lines.emplace_back(line); };
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo one; echo two >&2; printf 'no newline'"};
  RunProcess(spec, options);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "no newline"}));
}

TEST(ProcessRunner, TheWorkersEnvironmentNeverReachesTheProcess) {
  TempDir dir;
  ::setenv("KILN_TEST_WORKER_SECRET", "should-not-leak", 1);
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "env"};
  spec.env = {{"GIVEN", "yes"}};
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  ::unsetenv("KILN_TEST_WORKER_SECRET");
  EXPECT_EQ(result.output_tail.find("should-not-leak"), std::string::npos);
  EXPECT_NE(result.output_tail.find("GIVEN=yes"), std::string::npos);
  EXPECT_NE(result.output_tail.find("HOME=" + dir.str()), std::string::npos);
}

TEST(ProcessRunner, NoOtherOpenFileOfTheWorkerReachesTheProcess) {
  // A worker's NATS socket and its log used to be inherited by every step's process.
  TempDir dir;
  int fd = ::open((dir.path() / "worker-file").c_str(), O_CREAT | O_WRONLY, 0600);  // not close-on-exec
  ASSERT_GE(fd, 3);
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "ls /proc/$$/fd"};
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  ::close(fd);
  ASSERT_TRUE(result.started) << result.error;
  EXPECT_EQ(result.output_tail, "0\n1\n2\n");
}

TEST(ProcessRunner, TimeoutKillsTheWholeGroupIncludingBackgroundChildren) {
  TempDir dir;
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "sleep 60 & echo $! > bg.pid; sleep 60"};
  spec.timeout = std::chrono::milliseconds(300);
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.ok());
  pid_t background = std::stoi(ReadFile(dir / "bg.pid"));
  WaitGone(background);
  EXPECT_FALSE(Alive(background));
}

TEST(ProcessRunner, AChildLeftBehindByAnExitingLeaderIsKilled) {
  TempDir dir;
  ProcessSpec spec;
  // The leader exits at once, leaving a daemon-like child holding the output pipe.
  spec.argv = {"sh", "-c", "sleep 60 > /dev/null 2>&1 & echo $! > bg.pid; exit 0"};
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  EXPECT_EQ(result.exit_code, 0);
  pid_t background = std::stoi(ReadFile(dir / "bg.pid"));
  WaitGone(background);
  EXPECT_FALSE(Alive(background));
}

std::string ReadIfThere(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Alive and not a zombie (a reparented daemon may wait for its reaper a moment).
bool Running(pid_t pid) {
  std::string stat = ReadIfThere("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

void WaitStopped(pid_t pid) {
  for (int i = 0; i < 200 && Running(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST(ProcessRunner, ADaemonThatLeavesTheProcessGroupIsKilledByItsCgroup) {
  const std::string note = CgroupAvailabilityNote();
  if (note.find("own cgroup") == std::string::npos) GTEST_SKIP() << note;
  TempDir dir;
  ProcessSpec spec;
  // Double fork and setsid: the daemon has its own session and process group, and its
  // parent is gone; only the cgroup still knows it came from this step.
  spec.argv = {"sh", "-c",
               "(setsid sh -c 'echo $$ > daemon.pid; exec sleep 60' > /dev/null 2>&1 < /dev/null &); "
               "while [ ! -s daemon.pid ]; do sleep 0.05; done; exit 0"};
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  EXPECT_EQ(result.exit_code, 0) << result.output_tail;
  pid_t daemon = std::stoi(ReadFile(dir / "daemon.pid"));
  WaitStopped(daemon);
  EXPECT_FALSE(Running(daemon)) << "the setsid daemon outlived its step";
}

TEST(ProcessRunner, TheProcessDiesWithAKilledParent) {
  // A SIGKILLed worker cannot clean up: its step processes must not run on by themselves.
  TempDir dir;
  const std::string pid_file = (dir / "step.pid").string();
  pid_t runner = ::fork();
  if (runner == 0) {
    ProcessSpec spec;
    spec.argv = {"sh", "-c", "echo $$ > step.pid; exec sleep 60"};
    RunProcess(spec, OptionsIn(dir));
    ::_exit(0);
  }
  for (int i = 0; i < 500 && ReadIfThere(pid_file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(ReadIfThere(pid_file).empty());
  pid_t step = std::stoi(ReadIfThere(pid_file));
  ::kill(runner, SIGKILL);
  int status = 0;
  ::waitpid(runner, &status, 0);
  WaitStopped(step);
  EXPECT_FALSE(Running(step)) << "the step outlived its SIGKILLed parent";
  // What the dead parent left in the cgroup tree (an empty step cgroup) is swept.
  if (CgroupAvailabilityNote().find("own cgroup") != std::string::npos) {
    EXPECT_GE(SweepAbandonedCgroups(), 1);
  }
}

TEST(ProcessRunner, CancellationStopsTheProcessSoon) {
  TempDir dir;
  CancellationToken stop;
  ProcessRunOptions options = OptionsIn(dir);
  options.stop = &stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.cancel();
  });
  ProcessSpec spec;
  spec.argv = {"sleep", "60"};
  ProcessResult result = RunProcess(spec, options);
  canceller.join();
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.signal, SIGTERM);
}

TEST(ProcessRunner, AProcessIgnoringSigtermIsKilledAfterTheGrace) {
  TempDir dir;
  ProcessRunOptions options = OptionsIn(dir);
  options.kill_grace = std::chrono::milliseconds(200);
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60"};
  spec.timeout = std::chrono::milliseconds(200);
  ProcessResult result = RunProcess(spec, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGKILL);
}

TEST(ProcessRunner, TheTailIsBounded) {
  TempDir dir;
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' 'a'; echo; echo END"};
  spec.tail_bytes = 1000;
  spec.log_output = false;
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  EXPECT_EQ(result.output_tail.size(), 1000u);
  EXPECT_EQ(result.output_tail.substr(result.output_tail.size() - 4), "END\n");
}

TEST(ProcessRunner, OutputIsRedacted) {
  TempDir dir;
  Redactor redactor;
  redactor.add("s3cr3t-value");
  ProcessRunOptions options = OptionsIn(dir);
  options.redactor = &redactor;
  std::string streamed;
  options.on_line = [&](std::string_view line) { streamed += std::string(line) + "\n"; };
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo token=s3cr3t-value; echo https://user:pw1234@host/x.git"};
  ProcessResult result = RunProcess(spec, options);
  for (const std::string* text : {&streamed, &result.output_tail}) {
    EXPECT_EQ(text->find("s3cr3t-value"), std::string::npos) << *text;
    EXPECT_EQ(text->find("pw1234"), std::string::npos) << *text;
  }
}

TEST(ProcessRunner, ACredentialUrlCutBetweenTwoReadsIsMaskedInItsLine) {
  // Each read is masked as it comes; a URL written in two parts is whole only in its line.
  TempDir dir;
  Redactor redactor;
  ProcessRunOptions options = OptionsIn(dir);
  options.redactor = &redactor;
  std::vector<std::string> lines;
  options.on_line = [&](std::string_view line) { lines.emplace_back(line); };
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "printf 'clone https://user:pw'; sleep 0.3; printf '1234@host/x.git\\n'; echo plain line"};
  ProcessResult result = RunProcess(spec, options);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].find("pw1234"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("@host/x.git"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "plain line");
  EXPECT_EQ(result.output_tail.find("pw1234"), std::string::npos) << result.output_tail;
}

TEST(ProcessRunner, StartErrorsSayWhat) {
  TempDir dir;
  ProcessSpec spec;
  spec.argv = {"no-such-command-kiln"};
  ProcessResult result = RunProcess(spec, OptionsIn(dir));
  EXPECT_FALSE(result.started);
  EXPECT_NE(result.error.find("command not found: no-such-command-kiln"), std::string::npos);
  spec.argv = {"true"};
  spec.cwd = (dir / "missing").string();
  result = RunProcess(spec, OptionsIn(dir));
  EXPECT_NE(result.error.find("working directory does not exist"), std::string::npos);
  spec.argv = {};
  EXPECT_FALSE(RunProcess(spec, OptionsIn(dir)).started);
}

}  // namespace
}  // namespace kiln
