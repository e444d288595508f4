// The kiln binary end to end: `kiln run` of a real local git repository through the real
// plugins, exit codes 0/1/2, --json events, validate, plugins, --help, and a planted
// secret that must appear in no output at all.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kiln/plugin.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {
namespace {

const std::string kKiln = std::string(KILN_BINARY_DIR) + "/bin/kiln";
const std::string kPlanted = "kiln-planted-T0KEN-9f8e7d6c";

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

class KilnCli : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = (dir_ / "repo").string();
    std::string log;
    ASSERT_EQ(Shell("git init -q -b main '" + repo_ + "' && cd '" + repo_ +
                        "' && echo hello > README && git add README && "
                        "git -c user.name=t -c user.email=t@t commit -qm first && git rev-parse HEAD",
                    &log),
              0)
        << log;
    commit_ = log.substr(log.size() - 41, 40);
    config_ = (dir_ / "config.yaml").string();
    WriteConfig("");
  }

  void WriteConfig(const std::string& extra) {
    WriteFile(config_, "build:\n  workspace_path: " + (dir_ / "work").string() + "\n  code_cache_path: " +
                           (dir_ / "cache/code").string() + "\n  build_cache_path: " + (dir_ / "cache/build").string() +
                           "\npipelines:\n  dir: " + (dir_ / "pipelines").string() + "\n" + extra);
  }

  Output Kiln(const std::string& args, const std::string& env = "") {
    Output output;
    const std::string out_file = (dir_ / "stdout").string();
    const std::string err_file = (dir_ / "stderr").string();
    std::string ignored;
    output.code = Shell(env + " '" + kKiln + "' " + args + " >'" + out_file + "' 2>'" + err_file + "' </dev/null; exit $?",
                        &ignored);
    output.out = ReadFile(out_file);
    output.err = ReadFile(err_file);
    return output;
  }

  std::string Pipeline(const std::string& name, const std::string& script) {
    std::string path = (dir_ / "pipelines" / (name + ".lua")).string();
    WriteFile(path, script);
    return path;
  }

  static std::vector<nlohmann::json> Events(const std::string& text) {
    std::vector<nlohmann::json> events;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) events.push_back(nlohmann::json::parse(text.substr(start, end - start)));
      start = end + 1;
    }
    return events;
  }

  TempDir dir_{"kiln-cli"};
  std::string repo_;
  std::string commit_;
  std::string config_;
};

TEST_F(KilnCli, RunSyncsARealRepositoryAndPrintsJsonEvents) {
  std::string pipeline = Pipeline("sync", R"(
    local src = kiln.step("git sync", function() return git.sync { url = job.repo.url, commit = job.commit } end)
    kiln.step("read", function()
      local r = kiln.exec { cmd = { "cat", "README" }, cwd = src.path }
      assert(r.code == 0 and r.output_tail == "hello\n", r.output_tail)
      return { readme = r.output_tail }
    end)
  )");
  Output run = Kiln("run --json --config '" + config_ + "' --pipeline '" + pipeline + "' '" + repo_ + "'");
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  auto events = Events(run.out);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front()["type"], "job.started");
  EXPECT_EQ(events.front()["commit"], commit_);
  EXPECT_EQ(events.back()["type"], "job.succeeded");
  bool saw_sync = false;
  for (const auto& event : events) {
    if (event["type"] == "step.finished" && event["step"] == "git sync") {
      saw_sync = true;
      EXPECT_EQ(event["status"], "ok");
      EXPECT_EQ(event["outputs"]["commit"], commit_);
    }
  }
  EXPECT_TRUE(saw_sync);
}

TEST_F(KilnCli, RunEnvReachesTheJobsEnv) {
  // `kiln run --env` fills the job's env as `kiln submit --env` fills the message's.
  std::string pipeline = Pipeline("env", R"(
    kiln.step("env", function() return { a = job.env.KILN_A, b = job.env.KILN_B } end)
  )");
  Output run = Kiln("run --json --config '" + config_ + "' --env KILN_A=one --env 'KILN_B=two=2' --pipeline '" +
                    pipeline + "' '" + repo_ + "'");
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  bool saw = false;
  for (const auto& event : Events(run.out)) {
    if (event["type"] == "step.finished" && event["step"] == "env") {
      saw = true;
      EXPECT_EQ(event["outputs"]["a"], "one");
      EXPECT_EQ(event["outputs"]["b"], "two=2");
    }
  }
  EXPECT_TRUE(saw) << run.out;
  Output bad = Kiln("run --config '" + config_ + "' --env NOEQUALS --pipeline '" + pipeline + "' '" + repo_ + "'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("NOEQUALS"), std::string::npos) << bad.err;
  Output bad_name = Kiln("run --config '" + config_ + "' --env '1X=y' --pipeline '" + pipeline + "' '" + repo_ + "'");
  EXPECT_EQ(bad_name.code, 2);
  EXPECT_NE(bad_name.err.find("1X"), std::string::npos) << bad_name.err;
}

TEST_F(KilnCli, DefaultPipelineRunsWhenTheRepositoryHasNone) {
  Output run = Kiln("run --json --config '" + config_ + "' '" + repo_ + "'");
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  auto events = Events(run.out);
  EXPECT_NE(events.front()["pipeline"].get<std::string>().find("default.lua"), std::string::npos);
}

TEST_F(KilnCli, TheRepositorysOwnPipelineRunsOnlyWhenAllowed) {
  // .kiln/pipeline.lua is read at the job's commit through the git plugin (git.read_file);
  // a later commit that changes it must not be what runs.
  std::string log;
  ASSERT_EQ(Shell("cd '" + repo_ + "' && mkdir .kiln && echo \"kiln.step('from the repository', function() end)\" >"
                  " .kiln/pipeline.lua && git add .kiln && git -c user.name=t -c user.email=t@t commit -qm own &&"
                  " git rev-parse HEAD && echo \"kiln.fail('a later commit')\" > .kiln/pipeline.lua &&"
                  " git -c user.name=t -c user.email=t@t commit -qam later",
                  &log),
            0)
      << log;
  const std::string own_commit = log.substr(log.size() - 41, 40);
  auto step_names = [](const std::vector<nlohmann::json>& events) {
    std::vector<std::string> names;
    for (const auto& event : events) {
      if (event["type"] == "step.started") names.push_back(event["step"]);
    }
    return names;
  };

  Output refused = Kiln("run --json --config '" + config_ + "' --commit " + own_commit + " '" + repo_ + "'");
  ASSERT_EQ(refused.code, 0) << refused.out << refused.err;
  auto events = Events(refused.out);
  EXPECT_NE(events.front()["pipeline"].get<std::string>().find("default.lua"), std::string::npos);

  WriteConfig("  allow_repo_scripts: true\n");
  Output allowed = Kiln("run --json --config '" + config_ + "' --commit " + own_commit + " '" + repo_ + "'");
  ASSERT_EQ(allowed.code, 0) << allowed.out << allowed.err;
  events = Events(allowed.out);
  EXPECT_NE(events.front()["pipeline"].get<std::string>().find(".kiln/pipeline.lua"), std::string::npos)
      << events.front().dump();
  EXPECT_EQ(step_names(events), std::vector<std::string>{"from the repository"});
}

TEST_F(KilnCli, HumanOutputShowsStepsAndTheResult) {
  std::string pipeline = Pipeline("two", "kiln.step('first', function() end) kiln.step('second', function() kiln.fail('nope') end)");
  Output run = Kiln("run --config '" + config_ + "' --pipeline '" + pipeline + "' '" + repo_ + "'");
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.out.find("✓ first"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("✗ second"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("✗ job failed"), std::string::npos) << run.out;
}

TEST_F(KilnCli, RunLogWritesTheWholeLogToAFile) {
  // The terminal shows progress only; --log keeps every line, as kiln logs prints a job's
  // log from BUILD_LOGS, redacted.
  WriteConfig("secrets:\n  token: env:KILN_PLANTED\n");
  std::string pipeline = Pipeline("noisy", R"(
    kiln.log("before any step")
    kiln.step("noisy", function()
      kiln.exec { cmd = { "sh", "-c", "seq 1 20000; echo the token is $T" }, env = { T = kiln.secret("token") } }
    end)
  )");
  const std::string log = (dir_ / "run.log").string();
  Output run = Kiln("run --log '" + log + "' --config '" + config_ + "' --pipeline '" + pipeline + "' '" + repo_ + "'",
                    "KILN_PLANTED=" + kPlanted);
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("19999"), std::string::npos) << "the terminal shows progress, not the log";
  const std::string text = ReadFile(log);
  EXPECT_EQ(text.find(kPlanted), std::string::npos);
  EXPECT_NE(text.find("the token is ***"), std::string::npos) << text.substr(text.size() - 200);
  std::string expected = "==> (script) (attempt 1, job attempt 1) <==\nbefore any step\n"
                         "==> step noisy (attempt 1, job attempt 1) <==\n";
  for (int i = 1; i <= 20000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(text.substr(0, expected.size()), expected);

  Output unwritable = Kiln("run --log '" + (dir_ / "no-such-dir" / "run.log").string() + "' --config '" + config_ +
                           "' --pipeline '" + pipeline + "' '" + repo_ + "'");
  EXPECT_EQ(unwritable.code, 2);
  EXPECT_NE(unwritable.err.find("no-such-dir/run.log: No such file or directory"), std::string::npos) << unwritable.err;
}

TEST_F(KilnCli, ExitCodes) {
  std::string failing = Pipeline("fail", "kiln.fail('broken')");
  EXPECT_EQ(Kiln("run --config '" + config_ + "' --pipeline '" + failing + "' '" + repo_ + "'").code, 1);
  // Bad input: 2, with a message naming what is wrong.
  Output bad_commit = Kiln("run --config '" + config_ + "' --commit XYZ '" + repo_ + "'");
  EXPECT_EQ(bad_commit.code, 2);
  EXPECT_NE(bad_commit.err.find("commit"), std::string::npos) << bad_commit.err;
  WriteConfig("worker:\n  pool_sise: 3\n");
  Output bad_config = Kiln("run --config '" + config_ + "' '" + repo_ + "'");
  EXPECT_EQ(bad_config.code, 2);
  EXPECT_NE(bad_config.err.find("worker.pool_sise"), std::string::npos) << bad_config.err;
  EXPECT_EQ(Kiln("run").code, 2);                    // REPO missing
  EXPECT_EQ(Kiln("frobnicate").code, 2);             // no such command
  EXPECT_EQ(Kiln("run --config '" + config_ + "' '" + (dir_ / "nothing").string() + "'").code, 2);
}

TEST_F(KilnCli, HelpWorksEverywhere) {
  for (const std::string command : {"", "run", "validate", "plugins", "worker", "submit", "status", "dlq"}) {
    Output help = Kiln(command + " --help");
    EXPECT_EQ(help.code, 0) << command;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << command << help.out;
  }
}

TEST_F(KilnCli, ValidateReportsFileAndLine) {
  std::string good = Pipeline("good", "kiln.step('a', function() end)\n");
  Output ok = Kiln("validate '" + good + "'");
  EXPECT_EQ(ok.code, 0) << ok.err;
  std::string bad = Pipeline("bad", "kiln.step('a', function()\n  return = 1\nend)\n");
  Output error = Kiln("validate '" + bad + "'");
  EXPECT_EQ(error.code, 2);
  EXPECT_NE(error.err.find("bad.lua:2:"), std::string::npos) << error.err;
  EXPECT_EQ(Kiln("validate '" + (dir_ / "none.lua").string() + "'").code, 2);
}

TEST_F(KilnCli, PluginsListsTheRealPluginsAndTheBadFiles) {
  WriteConfig("plugins:\n  dirs: [" + std::string(KILN_BAD_PLUGIN_DIR) + "]\n");
  Output list = Kiln("plugins --json --config '" + config_ + "'");
  ASSERT_EQ(list.code, 0) << list.err;
  auto report = nlohmann::json::parse(list.out);
  std::set<std::string> names;
  for (const auto& plugin : report["plugins"]) names.insert(plugin["name"]);
  EXPECT_TRUE(names.count("git")) << list.out;
  EXPECT_EQ(report["problems"].size(), 5u) << list.out;
  for (const auto& plugin : report["plugins"]) EXPECT_EQ(plugin["abi_version"], kPluginAbiVersion);
}

TEST_F(KilnCli, APlantedSecretAppearsInNoOutput) {
  // A configured secret used every way a script or plugin can: logged, echoed by a process,
  // returned as output, put in an error message; and a credential inside a URL.
  WriteConfig("secrets:\n  token: env:KILN_PLANTED\nplugins:\n  dirs: [" + std::string(KILN_TEST_PLUGIN_DIR) + "]\nlogging:\n  level: debug\n");
  std::string pipeline = Pipeline("leak", R"(
    local t = kiln.secret("token")
    kiln.log("the token is " .. t)
    print("print " .. t)
    kiln.step("echo", function()
      local r = kiln.exec { cmd = { "sh", "-c", "echo $T; echo https://user:$T@example.invalid/x.git" }, env = { T = t } }
      return { tail = r.output_tail, value = t }
    end)
    kiln.step("plugin", function() return probe.secret { name = "token" } end)
    kiln.step("fail", function() kiln.fail("cannot push with " .. t .. " to https://bob:" .. t .. "@example.invalid") end)
  )");
  Output run = Kiln("run --json -v --config '" + config_ + "' --pipeline '" + pipeline + "' '" + repo_ + "'",
                    "KILN_PLANTED=" + kPlanted);
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out.find(kPlanted), std::string::npos) << run.out;
  EXPECT_EQ(run.err.find(kPlanted), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("***"), std::string::npos);
  auto events = Events(run.out);
  EXPECT_EQ(events.back()["type"], "job.failed");
  // Nothing under the workspace or caches holds it either (the workspace is gone).
  std::string grep;
  EXPECT_NE(Shell("grep -r '" + kPlanted + "' '" + (dir_ / "cache").string() + "'", &grep), 0) << grep;
}

TEST_F(KilnCli, CredentialsInTheRepositoryUrlAreRedacted) {
  Output run = Kiln("run --json --config '" + config_ + "' https://user:" + kPlanted + "@127.0.0.1:9/x.git");
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.err.find(kPlanted), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find(kPlanted), std::string::npos) << run.out;
}

}  // namespace
}  // namespace kiln::testing

namespace kiln::testing {
namespace {

TEST_F(KilnCli, CacheGcAndStatsRunTheCachePluginsSteps) {
  WriteFile(dir_ / "cache/build/keyed/old/marker", "x");
  Output stats = Kiln("cache stats --config '" + config_ + "'");
  ASSERT_EQ(stats.code, 0) << stats.err;
  EXPECT_TRUE(nlohmann::json::parse(stats.out).is_object()) << stats.out;
  Output gc = Kiln("cache gc --max-size 1GiB --config '" + config_ + "'");
  EXPECT_EQ(gc.code, 0) << gc.err;
  Output bad = Kiln("cache gc --max-size lots --config '" + config_ + "'");
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("max_size"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kiln::testing
