// Issue 23 through a real `kiln worker`, nats-server, git daemon, job sandbox and the npm
// registry (the install's egress): NX monorepos as their teams set them up, built by the
// default pipeline. tests/fixtures/nx-yarn4 (yarn 4 workspaces, node-modules linker) and
// tests/fixtures/nx-pnpm (pnpm workspaces), each pinned by package.json's packageManager with
// a complete lockfile (tests/fixtures/make-nx-monorepo-fixtures.sh): built cold, then warm
// with one library changed; a pinned version that does not exist; the job's env reaching the
// install and NX.
#include <filesystem>

#include "support/git_server.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;

struct JobRun {
  nlohmann::json state;
  std::map<std::string, nlohmann::json> outputs;  // step -> its outputs, for the steps that finished ok
  std::string said;                               // every event, as text
};

class MonorepoPipelineTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    for (const char* plugin : {"git", "nx", "cache"}) {
      if (!fs::exists(fs::path(KILN_PLUGIN_DIR) / (std::string(plugin) + ".so"))) {
        GTEST_SKIP() << "the " << plugin << " plugin is not built";
      }
    }
    std::string error;
    ASSERT_TRUE(git_.StartDaemon(&error)) << error;
    WorkerSettings settings;
    settings.timeout = "600";
    settings.max_retries = 0;  // a retryable failure would show as a failure, not be hidden
    WriteConfig(settings);
    StartWorker();
  }

  /// A new repository `name` holding the fixture `fixture` (with `package_json` instead of
  /// its package.json when given), pushed to the git daemon; returns the work repository.
  GitWorkRepo& Push(const std::string& name, const std::string& fixture, const std::string& package_json = "") {
    const auto bare = git_.CreateBareRepo(name + ".git");
    repos_.push_back(std::make_unique<GitWorkRepo>(dir_.path() / "src" / name, bare));
    GitWorkRepo& repo = *repos_.back();
    std::string output;
    EXPECT_EQ(Shell("cp -a '" + (fs::path(KILN_SOURCE_DIR) / "tests/fixtures" / fixture).string() + "/.' '" +
                        repo.dir().string() + "/'",
                    &output),
              0)
        << output;
    std::map<std::string, std::string> files;
    if (!package_json.empty()) files["package.json"] = package_json;
    commits_[name] = repo.Commit(files, "the " + fixture + " fixture");
    repo.Push("main");
    return repo;
  }

  /// Runs the default pipeline (the job names none) on `name`'s last commit to its end.
  JobRun Run(const std::string& name, const nlohmann::json& env = nlohmann::json::object(),
             const std::string& before = "") {
    const std::string id = "monorepo-" + name + "-" + std::to_string(++jobs_);
    nlohmann::json job = {{"id", id},
                          {"repo", {{"url", git_.DaemonUrl(name + ".git")}}},
                          {"commit", commits_[name]},
                          {"branch", "main"},
                          {"env", env}};
    if (!before.empty()) job["before"] = before;
    PublishRaw(job.dump(), id);
    JobRun run;
    run.state = WaitForStatus(id, {"succeeded", "failed", "timed_out", "cancelled", "dead"}, std::chrono::seconds(400));
    for (const auto& event : Events(id)) {
      run.said += event.dump() + "\n";
      if (event.value("type", "") == "step.finished" && event.value("status", "") == "ok") {
        run.outputs[event.value("step", "")] = event["outputs"];
      }
    }
    run.said += run.state.dump();
    return run;
  }

  /// Changes the library libs/shared in a new commit of `name`; returns the commit before.
  std::string ChangeLibrary(const std::string& name, GitWorkRepo& repo, const std::string& text) {
    const std::string before = commits_[name];
    commits_[name] = repo.Commit({{"libs/shared/src/index.js", "module.exports.greet = (who) => `" + text + " ${who}`;\n"}},
                                 "change the library");
    repo.Push("main");
    return before;
  }

  static std::string Status(const JobRun& run) { return run.state.value("status", ""); }
  /// A job that failed: with max_retries 0 the worker gives it up at once ("dead").
  static bool Failed(const JobRun& run) { return Status(run) == "dead" || Status(run) == "failed"; }

  GitServer git_{dir_.path() / "git"};
  std::vector<std::unique_ptr<GitWorkRepo>> repos_;
  std::map<std::string, std::string> commits_;
  int jobs_ = 0;
};

std::vector<std::string> Strings(const nlohmann::json& list) {
  return list.is_array() ? list.get<std::vector<std::string>>() : std::vector<std::string>{};
}

TEST_F(MonorepoPipelineTest, Yarn4PinnedByPackageManagerBuildsColdThenWarm) {
  GitWorkRepo& repo = Push("yarn4", "nx-yarn4");

  // Cold: yarn 4.15.0 comes through Corepack from the registry (there is no yarn on this
  // machine), the install runs, the dependencies are saved.
  const JobRun cold = Run("yarn4");
  ASSERT_EQ(Status(cold), "succeeded") << cold.said;
  const nlohmann::json& pm = cold.outputs.at("package manager");
  EXPECT_EQ(pm["name"], "yarn");
  EXPECT_EQ(pm["version"], "4.15.0");
  EXPECT_EQ(pm["linker"], "node-modules");
  EXPECT_EQ(Strings(pm["paths"]),
            (std::vector<std::string>{"apps/web/node_modules", "libs/shared/node_modules", "node_modules"}));
  EXPECT_EQ(cold.outputs.at("restore dependencies")["hit"], false);
  const nlohmann::json& built = cold.outputs.at("nx build");
  EXPECT_EQ(built["package_manager"], "yarn");
  EXPECT_EQ(built["package_manager_version"], "4.15.0");
  EXPECT_EQ(built["package_manager_downloaded"], true);
  EXPECT_EQ(built["installed"], true);
  EXPECT_EQ(Strings(built["projects"]), (std::vector<std::string>{"shared", "web"}));
  EXPECT_EQ(cold.outputs.at("save dependencies")["status"], "saved");

  // Warm, one library changed: the dependencies come back from the cache (no install), yarn
  // from COREPACK_HOME (no download), and the changed library and its dependent are rebuilt.
  const std::string before = ChangeLibrary("yarn4", repo, "hi");
  const JobRun warm = Run("yarn4", nlohmann::json::object(), before);
  ASSERT_EQ(Status(warm), "succeeded") << warm.said;
  EXPECT_EQ(warm.outputs.at("restore dependencies")["hit"], "exact");
  const nlohmann::json& rebuilt = warm.outputs.at("nx build");
  EXPECT_EQ(rebuilt["installed"], false) << rebuilt.dump();
  EXPECT_EQ(rebuilt["package_manager_downloaded"], false) << rebuilt.dump();
  EXPECT_TRUE(Strings(rebuilt["cached"]).empty()) << rebuilt.dump();
  EXPECT_EQ(Strings(rebuilt["projects"]), (std::vector<std::string>{"shared", "web"}));
  EXPECT_EQ(warm.outputs.count("save dependencies"), 0u);

  // The job's env reaches NX's tasks: the fixture's build fails saying what it was given.
  ChangeLibrary("yarn4", repo, "hey");
  const JobRun env = Run("yarn4", {{"KILN_FIXTURE_FAIL_BUILD", "set-by-the-job"}});
  EXPECT_TRUE(Failed(env)) << env.said;
  EXPECT_NE(env.said.find("KILN_FIXTURE_FAIL_BUILD=set-by-the-job"), std::string::npos) << env.said;
}

TEST_F(MonorepoPipelineTest, PnpmWorkspaceBuildsColdThenWarm) {
  GitWorkRepo& repo = Push("pnpm", "nx-pnpm");
  // This machine's registry mirror serves no signatures, which Corepack checks pnpm's
  // against (the real registry has them, and then this only skips that check).
  const nlohmann::json base_env = {{"COREPACK_INTEGRITY_KEYS", "0"}};

  // The job's env reaches the install: the fixture's postinstall fails saying what it got.
  nlohmann::json failing_env = base_env;
  failing_env["KILN_FIXTURE_FAIL_INSTALL"] = "set-by-the-job";
  const JobRun refused = Run("pnpm", failing_env);
  EXPECT_TRUE(Failed(refused)) << refused.said;
  EXPECT_NE(refused.said.find("KILN_FIXTURE_FAIL_INSTALL=set-by-the-job"), std::string::npos) << refused.said;
  EXPECT_EQ(refused.outputs.count("save dependencies"), 0u);

  const JobRun cold = Run("pnpm", base_env);
  ASSERT_EQ(Status(cold), "succeeded") << cold.said;
  EXPECT_EQ(cold.outputs.at("package manager")["name"], "pnpm");
  EXPECT_EQ(cold.outputs.at("package manager")["version"], "9.15.9");
  EXPECT_EQ(cold.outputs.at("restore dependencies")["hit"], false);
  const nlohmann::json& built = cold.outputs.at("nx build");
  EXPECT_EQ(built["package_manager"], "pnpm");
  EXPECT_EQ(built["installed"], true);
  // The first job fetched pnpm already (before its postinstall failed): kept in COREPACK_HOME.
  EXPECT_EQ(built["package_manager_downloaded"], false) << built.dump();
  EXPECT_EQ(Strings(built["projects"]), (std::vector<std::string>{"shared", "web"}));
  EXPECT_EQ(cold.outputs.at("save dependencies")["status"], "saved");

  const std::string before = ChangeLibrary("pnpm", repo, "hi");
  const JobRun warm = Run("pnpm", base_env, before);
  ASSERT_EQ(Status(warm), "succeeded") << warm.said;
  EXPECT_EQ(warm.outputs.at("restore dependencies")["hit"], "exact");
  const nlohmann::json& rebuilt = warm.outputs.at("nx build");
  EXPECT_EQ(rebuilt["installed"], false) << rebuilt.dump();
  EXPECT_EQ(rebuilt["package_manager_downloaded"], false) << rebuilt.dump();
  EXPECT_EQ(Strings(rebuilt["projects"]), (std::vector<std::string>{"shared", "web"}));
}

TEST_F(MonorepoPipelineTest, APinnedVersionThatDoesNotExistFailsTerminallyNamingIt) {
  std::string package_json = ReadFile(fs::path(KILN_SOURCE_DIR) / "tests/fixtures/nx-yarn4/package.json");
  const std::string pinned = "\"yarn@4.15.0\"";
  package_json.replace(package_json.find(pinned), pinned.size(), "\"yarn@4.999.0\"");
  Push("missing", "nx-yarn4", package_json);
  const JobRun run = Run("missing");
  EXPECT_TRUE(Failed(run)) << run.said;
  EXPECT_NE(run.said.find("packageManager yarn@4.999.0 cannot be had from"), std::string::npos) << run.said;
  // Terminal: one attempt of the step, though the pipeline's default retry allows three.
  EXPECT_EQ(run.said.find("\"attempt\":2"), std::string::npos) << run.said;
}

}  // namespace
}  // namespace kiln::testing
