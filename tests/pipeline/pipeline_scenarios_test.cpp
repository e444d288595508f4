// Pipelines run end to end through the JobRunner with the probe plugin: retries, terminal
// errors, timeouts that kill processes, outputs, events, plugin errors.
#include <signal.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "log/logging.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "workspace/workspace_lease.hpp"

namespace kiln::testing {
namespace {

class PipelineScenario : public ::testing::Test {
 protected:
  PipelineFixture fixture;
};

TEST_F(PipelineScenario, FlakyStepSucceedsOnAttemptThree) {
  auto run = fixture.run(R"(
    local r = kiln.step("flaky", { retry = { attempts = 5, backoff = "fixed", initial = "10ms" } }, function()
      return probe.flaky { key = "a", fail_times = 2 }
    end)
    assert(r.calls == 3)
  )");
  ASSERT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
  EXPECT_EQ(run.of_type("step.started").size(), 3u);
  auto retrying = run.of_type("step.retrying");
  ASSERT_EQ(retrying.size(), 2u);
  EXPECT_EQ(retrying[0]["delay_ms"], 10);
  EXPECT_NE(retrying[0]["error"].get<std::string>().find("flaky call 1"), std::string::npos);
  auto finished = run.of_type("step.finished");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0]["status"], "ok");
  EXPECT_EQ(finished[0]["attempt"], 3);
  EXPECT_EQ(finished[0]["outputs"]["calls"], 3);
  EXPECT_EQ(run.events.back()["type"], "job.succeeded");
}

TEST_F(PipelineScenario, RetryableErrorExhaustsAttemptsAndFailsRetryably) {
  auto run = fixture.run(R"(
    kiln.step("always", { retry = { attempts = 3, initial = "1ms" } }, function()
      kiln.retryable("registry busy")
    end)
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_TRUE(run.outcome.retryable);
  EXPECT_EQ(run.of_type("step.started").size(), 3u);
  EXPECT_NE(run.outcome.error.find("step 'always': registry busy"), std::string::npos) << run.outcome.error;
  EXPECT_EQ(run.of_type("step.finished")[0]["status"], "retryable");
}

TEST_F(PipelineScenario, TerminalErrorIsNeverRetried) {
  auto run = fixture.run(R"(
    kiln.step("bad input", { retry = { attempts = 5, initial = "1ms" } }, function()
      return probe.fail { message = "no Dockerfile in context" }
    end)
    kiln.step("never reached", function() end)
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_FALSE(run.outcome.retryable);
  EXPECT_EQ(run.of_type("step.started").size(), 1u);
  EXPECT_TRUE(run.of_type("step.retrying").empty());
  EXPECT_NE(run.outcome.error.find("probe.fail: no Dockerfile in context"), std::string::npos) << run.outcome.error;
  EXPECT_EQ(run.of_type("step.finished")[0]["status"], "terminal");
}

TEST_F(PipelineScenario, KilnFailIsTerminalEvenWithRetries) {
  auto run = fixture.run(R"(
    kiln.step("s", { retry = { attempts = 4, initial = "1ms" } }, function() kiln.fail("broken") end)
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_EQ(run.of_type("step.started").size(), 1u);
}

TEST_F(PipelineScenario, PlainLuaErrorIsTerminalWithFileAndLine) {
  auto run = fixture.run("kiln.step('s', function()\n  local x = nil\n  return x.field\nend)\n");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_NE(run.outcome.error.find("pipeline.lua:3:"), std::string::npos) << run.outcome.error;
}

bool ProcessAlive(pid_t pid) { return ::kill(pid, 0) == 0; }

TEST_F(PipelineScenario, TimeoutKillsTheSleepingChildAndReportsTimedOut) {
  const auto started = std::chrono::steady_clock::now();
  auto run = fixture.run(R"(
    kiln.step("slow", { timeout = "300ms" }, function()
      return kiln.exec { cmd = { "sh", "-c", "echo $$ > child.pid; sleep 60 & echo $! > grandchild.pid; wait" } }
    end)
  )");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  auto finished = run.of_type("step.finished");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0]["status"], "timed_out");
  EXPECT_NE(run.outcome.error.find("timed out after 300ms"), std::string::npos) << run.outcome.error;
  EXPECT_LT(elapsed, std::chrono::seconds(30));  // a sanity bound, not a speed claim
}

TEST_F(PipelineScenario, TimeoutLeavesNoProcessBehind) {
  fixture.config.build.keep_failed_workspaces = true;
  auto run = fixture.run(R"(
    kiln.step("slow", { timeout = "300ms" }, function()
      return kiln.exec { cmd = { "sh", "-c", "sleep 60 & echo $! > grandchild.pid; wait" } }
    end)
  )");
  ASSERT_EQ(run.of_type("step.finished")[0]["status"], "timed_out");
  auto pid_file = std::filesystem::path(fixture.config.build.workspace_path) / fixture.job.id / "grandchild.pid";
  ASSERT_TRUE(std::filesystem::exists(pid_file));
  pid_t grandchild = std::stoi(ReadFile(pid_file));
  // The whole process group was killed: the background grandchild is gone too.
  for (int i = 0; i < 100 && ProcessAlive(grandchild); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(ProcessAlive(grandchild));
}

TEST_F(PipelineScenario, TimeoutStopsAPureLuaLoop) {
  auto run = fixture.run(R"(
    kiln.step("spin", { timeout = "200ms" }, function()
      local n = 0
      while true do n = n + 1 end
    end)
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_EQ(run.of_type("step.finished")[0]["status"], "timed_out");
}

TEST_F(PipelineScenario, PluginStepTimeoutKillsItsProcess) {
  auto run = fixture.run(R"(
    kiln.step("plugin sleep", { timeout = "300ms" }, function() return probe.sleep { seconds = 60 } end)
  )");
  EXPECT_EQ(run.of_type("step.finished")[0]["status"], "timed_out");
}

TEST_F(PipelineScenario, CancelStopsTheJobAndItsProcesses) {
  CancellationToken cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.cancel();
  });
  auto run = fixture.run(R"(
    kiln.step("long", function() return kiln.exec { cmd = { "sleep", "60" } } end)
  )", &cancel);
  canceller.join();
  EXPECT_EQ(run.outcome.status, JobStatus::cancelled);
  EXPECT_EQ(run.events.back()["type"], "job.cancelled");
  EXPECT_EQ(run.of_type("step.finished")[0]["status"], "cancelled");
}

TEST_F(PipelineScenario, JobTimeoutReportsTimedOut) {
  fixture.config.worker.timeout = std::chrono::milliseconds(300);
  auto run = fixture.run(R"(kiln.step("long", function() return kiln.exec { cmd = { "sleep", "60" } } end))");
  EXPECT_EQ(run.outcome.status, JobStatus::timed_out);
  EXPECT_EQ(run.events.back()["type"], "job.timed_out");
}

TEST_F(PipelineScenario, OutputsFlowIntoEventsAndTheNextStep) {
  auto run = fixture.run(R"(
    local src = kiln.step("echo", function() return probe.echo { path = "/src", tags = { "a", "b" } } end)
    kiln.step("use", function()
      assert(src.path == "/src" and src.tags[2] == "b")
      return { got = src.path }
    end)
    return { image = "x" }
  )");
  ASSERT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
  auto finished = run.of_type("step.finished");
  EXPECT_EQ(finished[0]["outputs"]["tags"][1], "b");
  EXPECT_EQ(finished[1]["outputs"]["got"], "/src");
  EXPECT_EQ(run.outcome.outputs["result"]["image"], "x");
  EXPECT_EQ(run.events.back()["outputs"]["steps"].size(), 2u);
}

TEST_F(PipelineScenario, EventsAreNumberedAndStamped) {
  auto run = fixture.run(R"(kiln.step("a", function() kiln.log("hello") kiln.progress(50, "half") end))");
  ASSERT_FALSE(run.events.empty());
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    EXPECT_EQ(run.events[i]["seq"], i + 1);
    EXPECT_EQ(run.events[i]["job"], fixture.job.id);
    EXPECT_EQ(run.events[i]["worker"], "test-worker");
    EXPECT_TRUE(run.events[i]["time"].is_string());
  }
  EXPECT_EQ(run.events.front()["type"], "job.started");
  EXPECT_EQ(run.of_type("step.log")[0]["message"], "hello");
  EXPECT_EQ(run.of_type("step.progress")[0]["percent"], 50.0);
  // Exactly one terminal event, and it is the last.
  int terminal = 0;
  for (const auto& event : run.events) terminal += event["type"].get<std::string>().rfind("job.", 0) == 0 && event["type"] != "job.started";
  EXPECT_EQ(terminal, 1);
}

TEST_F(PipelineScenario, ExecReturnsCodeAndTailAndStreamsOutput) {
  auto run = fixture.run(R"(
    kiln.step("exec", function()
      local r = kiln.exec { cmd = { "sh", "-c", "echo out; echo err >&2; exit 3" }, env = { FOO = "bar" } }
      assert(r.code == 3, "code " .. tostring(r.code))
      assert(r.output_tail:find("out") and r.output_tail:find("err"))
      local e = kiln.exec { cmd = { "sh", "-c", "echo $FOO; echo ${REGISTRY_TOKEN:-unset}" } }
      return { env = e.output_tail }
    end)
  )");
  ASSERT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
  auto logs = run.of_type("step.log");
  ASSERT_GE(logs.size(), 2u);
  // The worker's environment does not reach the process; only what the script passes.
  EXPECT_EQ(run.of_type("step.finished")[0]["outputs"]["env"], "\nunset\n");
}

TEST_F(PipelineScenario, ExecRefusesACwdOutsideTheWorkspace) {
  auto run = fixture.run(R"(kiln.step("x", function() return kiln.exec { cmd = { "ls" }, cwd = "../../.." } end))");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_NE(run.outcome.error.find("outside the job's workspace"), std::string::npos) << run.outcome.error;
}

TEST_F(PipelineScenario, ExecCachesIsAFlagNotAPath) {
  // A pipeline (maybe the repository's own) names no host path to mount: only the job's
  // repository's dependency caches, by a flag.
  auto run = fixture.run(R"(kiln.step("x", function() return kiln.exec { cmd = { "ls" }, caches = "/etc" } end))");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_NE(run.outcome.error.find("kiln.exec: caches must be true or false, got \"/etc\""), std::string::npos)
      << run.outcome.error;
  auto unknown = fixture.run(R"(kiln.step("x", function() return kiln.exec { cmd = { "ls" }, mounts = { "/etc" } } end))");
  EXPECT_NE(unknown.outcome.error.find("kiln.exec: unknown field 'mounts' (cmd, cwd, env, timeout, network, caches)"),
            std::string::npos)
      << unknown.outcome.error;
}

TEST_F(PipelineScenario, PluginThatThrowsBecomesATerminalErrorNamingIt) {
  auto run = fixture.run(R"(kiln.step("t", { retry = { attempts = 3 } }, function() return probe.throw { message = "boom" } end))");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_EQ(run.of_type("step.started").size(), 1u);
  EXPECT_NE(run.outcome.error.find("plugin 'probe' threw in step 'throw': boom"), std::string::npos) << run.outcome.error;
}

TEST_F(PipelineScenario, MissingPluginOrStepIsNamed) {
  auto run = fixture.run(R"(kiln.step("img", function() return buildah.build { context = "." } end))");
  EXPECT_NE(run.outcome.error.find("the plugin 'buildah' is not loaded"), std::string::npos) << run.outcome.error;
  auto other = fixture.run(R"(kiln.step("p", function() return probe.nosuch {} end))");
  EXPECT_NE(other.outcome.error.find("plugin 'probe' has no step 'nosuch'"), std::string::npos) << other.outcome.error;
}

TEST_F(PipelineScenario, PluginStepOutsideKilnStepIsAStepOfItsOwn) {
  auto run = fixture.run(R"(local r = probe.echo { a = 1 } assert(r.a == 1))");
  ASSERT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
  EXPECT_EQ(run.of_type("step.finished")[0]["step"], "probe.echo");
}

TEST_F(PipelineScenario, DefaultsApplyToLaterSteps) {
  auto run = fixture.run(R"(
    kiln.defaults { retry = { attempts = 3, backoff = "fixed", initial = "1ms" } }
    kiln.step("flaky", function() return probe.flaky { key = "d", fail_times = 2 } end)
  )");
  ASSERT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
  EXPECT_EQ(run.of_type("step.started").size(), 3u);
}

TEST_F(PipelineScenario, BadStepOptionsAreNamed) {
  auto run = fixture.run(R"(kiln.step("x", { retry = { attempts = "many" } }, function() end))");
  EXPECT_NE(run.outcome.error.find("retry.attempts"), std::string::npos) << run.outcome.error;
  auto other = fixture.run(R"(kiln.step("x", { timeuot = "1s" }, function() end))");
  EXPECT_NE(other.outcome.error.find("unknown field 'timeuot'"), std::string::npos) << other.outcome.error;
}

TEST_F(PipelineScenario, JobIsReadOnlyAndIterable) {
  auto run = fixture.run(R"(
    assert(job.repo.name == "acme/shop")
    local ok, err = pcall(function() job.commit = "x" end)
    assert(not ok and tostring(err):find("read%-only"))
    local keys = 0
    for k, v in pairs(job) do keys = keys + 1 end
    assert(keys >= 4, "keys " .. keys)
    local ok2 = pcall(function() kiln = nil end)
    assert(not ok2)
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
}

TEST_F(PipelineScenario, ScriptCanInspectAndRecoverFromAStepError) {
  auto run = fixture.run(R"(
    local ok, err = pcall(kiln.step, "optional", function() kiln.retryable("flaky mirror") end)
    assert(not ok and err.kind == "retryable" and err.message == "flaky mirror")
    assert(tostring(err) == "flaky mirror")
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
}

TEST_F(PipelineScenario, WorkspaceIsRemovedWhenTheJobEnds) {
  auto ok = fixture.run(R"(kiln.step("w", function() return kiln.exec { cmd = { "touch", "f" } } end))");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(fixture.config.build.workspace_path) / fixture.job.id));
  auto failed = fixture.run(R"(kiln.fail("x"))");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(fixture.config.build.workspace_path) / fixture.job.id));
}

// The workspace is made on first use: a job of pure Lua steps needs none, so it runs even
// where none can be made, and the first step that needs one says why it cannot have it.
TEST_F(PipelineScenario, AJobOfPureLuaStepsNeedsNoWorkspace) {
  const auto blocker = std::filesystem::path(fixture.config.build.workspace_path);
  std::filesystem::remove_all(blocker);
  WriteFile(blocker, "a file where the workspaces would go");
  auto lua_only = fixture.run(R"(kiln.step("think", function() return { answer = 42 } end))");
  EXPECT_EQ(lua_only.outcome.status, JobStatus::succeeded) << lua_only.outcome.error;

  auto exec = fixture.run(R"(kiln.step("touch", function() kiln.exec { cmd = { "touch", "f" } } end))");
  EXPECT_EQ(exec.outcome.status, JobStatus::failed);
  EXPECT_FALSE(exec.outcome.retryable) << exec.outcome.error;
  EXPECT_NE(exec.outcome.error.find("kiln.exec"), std::string::npos) << exec.outcome.error;
  EXPECT_NE(exec.outcome.error.find(blocker.string()), std::string::npos) << exec.outcome.error;

  auto plugin = fixture.run(R"(kiln.step("ctx", function() return probe.context {} end))");
  EXPECT_EQ(plugin.outcome.status, JobStatus::failed);
  EXPECT_NE(plugin.outcome.error.find("probe.context"), std::string::npos) << plugin.outcome.error;
}

// Another live holder of the job's workspace (an attempt still stopping) is worth a retry
// later, not a terminal failure. (flock treats each open of the lock file on its own, so
// this process can be that other holder; the runner waits 10 s for it.)
TEST_F(PipelineScenario, AWorkspaceSomeoneElseHoldsIsARetryableStepError) {
  auto held = WorkspaceLease::Acquire(fixture.config.build.workspace_path, fixture.job.id, std::chrono::seconds(0));
  ASSERT_TRUE(held.ok()) << held.error();
  auto run = fixture.run(R"(kiln.step("touch", { retry = { attempts = 1 } }, function()
    kiln.exec { cmd = { "touch", "f" } }
  end))");
  EXPECT_EQ(run.outcome.status, JobStatus::failed);
  EXPECT_TRUE(run.outcome.retryable) << run.outcome.error;
  EXPECT_NE(run.outcome.error.find(fixture.job.id), std::string::npos) << run.outcome.error;
}

TEST_F(PipelineScenario, PluginGetsItsConfigAndTheJob) {
  auto run = fixture.run(R"(
    local c = kiln.step("ctx", function() return probe.context {} end)
    assert(c.job.id == job.id and c.workspace == kiln.workspace)
  )");
  EXPECT_EQ(run.outcome.status, JobStatus::succeeded) << run.outcome.error;
}

}  // namespace
}  // namespace kiln::testing

namespace kiln::testing {
namespace {

TEST(PipelineLogs, StepLinesCarryJobStepAndDuration) {
  PipelineFixture fixture;
  LoggingConfig logging;
  logging.level = "info";
  logging.format = "json";
  SetUpLogging(logging, &fixture.redactor);
  ::testing::internal::CaptureStderr();
  auto run = fixture.run(R"(kiln.step("compile", function() end))");
  std::string logs = ::testing::internal::GetCapturedStderr();
  // The logger must not keep the fixture's redactor once the fixture is gone: later tests
  // would log through a freed object.
  SetUpLogging(logging, nullptr);
  ASSERT_EQ(run.outcome.status, JobStatus::succeeded);
  bool found = false;
  for (std::size_t start = 0; start < logs.size();) {
    std::size_t end = logs.find('\n', start);
    if (end == std::string::npos) end = logs.size();
    auto line = nlohmann::json::parse(logs.substr(start, end - start), nullptr, false);
    start = end + 1;
    if (line.is_object() && line.value("step", "") == "compile") {
      found = true;
      EXPECT_EQ(line["job"], fixture.job.id);
      EXPECT_TRUE(line["duration_ms"].is_number());
      EXPECT_EQ(line["level"], "info");
    }
  }
  EXPECT_TRUE(found) << logs;
}

}  // namespace
}  // namespace kiln::testing
