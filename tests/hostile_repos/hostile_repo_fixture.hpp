// The hostile-repository corpus's set-up: a real nats-server, git daemon and `kiln worker`
// with the job sandbox on (its default), a config holding a `file:` secret and an `env:`
// secret, a worker environment with a secret of its own, and a metrics port on loopback.
// Each test pushes one repository that attacks the worker from inside a job, runs it with
// the default pipeline or `attack.lua` (git sync, then the repository's attack.sh through
// kiln.exec), and checks that the attack was contained and the worker goes on serving.
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "support/free_port.hpp"
#include "support/git_server.hpp"
#include "transport/log_reader.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {

inline constexpr const char* kFileSecret = "file-secret-6f1d2e9a";
inline constexpr const char* kEnvSecret = "env-secret-b83c07d4";
inline constexpr const char* kWorkerEnvSecret = "worker-env-secret-4a9e55c1";

struct AttackRun {
  std::string id;
  nlohmann::json state;  // the final KV state
  std::string said;      // every event of the job and its build log: what a reader of the build sees
};

class HostileRepoTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    std::string error;
    ASSERT_TRUE(git_.StartDaemon(&error)) << error;
    WriteFile(dir_.path() / "secrets" / "deploy_token", kFileSecret);
    ::setenv("KILN_HOSTILE_ENV_TOKEN", kEnvSecret, 1);
    ::setenv("KILN_WORKER_OWN_SECRET", kWorkerEnvSecret, 1);
    metrics_port_ = FreeLoopbackPort();
    WritePipeline("attack",
                  "local env = job.env or {}\n"
                  "local src = kiln.step('git sync', function()\n"
                  "  return git.sync { url = job.repo.url, commit = job.commit }\n"
                  "end)\n"
                  "local result = kiln.step('attack', { timeout = env.TIMEOUT or '60s' }, function()\n"
                  "  local r = kiln.exec { cmd = { '/bin/bash', 'attack.sh' }, cwd = src.path,\n"
                  "                        network = env.NETWORK or 'none' }\n"
                  "  kiln.log('attack exited ' .. tostring(r.code))\n"
                  "  return { code = r.code, stopped_by = r.stopped_by, timed_out = r.timed_out }\n"
                  "end)\n"
                  "return result\n");
    WriteHostileConfig("");
  }

  void TearDown() override {
    ::unsetenv("KILN_HOSTILE_ENV_TOKEN");
    ::unsetenv("KILN_WORKER_OWN_SECRET");
    WorkerTest::TearDown();
  }

  /// The worker's config, with `extra` YAML appended (another section, or sandbox limits).
  void WriteHostileConfig(const std::string& extra) {
    const std::string yaml =
        "nats: { url: \"" + server_.url() + "\", reconnect_wait: 250ms }\n" +
        "worker: { pool_size: 2, max_retries: 0, timeout: 120s, metrics_port: " + std::to_string(metrics_port_) +
        " }\n" +
        "build: { workspace_path: work/ws, code_cache_path: work/code, build_cache_path: work/deps }\n" +
        "pipelines: { dir: pipelines }\n" + "logging: { level: info, format: text }\n" +
        "secrets:\n  deploy_token: \"file:" + (dir_.path() / "secrets" / "deploy_token").string() +
        "\"\n  env_token: \"env:KILN_HOSTILE_ENV_TOKEN\"\n" + extra;
    WriteFile(config_path(), yaml);
  }

  /// What a file map cannot say (a symlink, an executable), made in the repository's work
  /// tree before it is committed.
  using Plant = std::function<void(const std::filesystem::path& work_tree)>;

  /// Pushes `files` (and what `plant` makes) as a new repository `name` and runs its job to
  /// the end.
  AttackRun Attack(const std::string& name, const std::map<std::string, std::string>& files,
                   const std::string& pipeline = "attack", const nlohmann::json& env = nlohmann::json::object(),
                   const Plant& plant = {}) {
    const auto bare = git_.CreateBareRepo(name + ".git");
    GitWorkRepo repo(dir_.path() / "src" / name, bare);
    if (plant) {
      std::filesystem::create_directories(repo.dir());
      plant(repo.dir());
    }
    const std::string commit = repo.Commit(files, "attack: " + name);
    repo.Push("main");
    AttackRun run;
    run.id = "hostile-" + name + "-" + std::to_string(++jobs_);
    nlohmann::json job = {{"id", run.id},
                          {"repo", {{"url", git_.DaemonUrl(name + ".git")}}},
                          {"commit", commit},
                          {"branch", "main"},
                          {"env", env}};
    if (!pipeline.empty()) job["pipeline"] = pipeline;
    PublishRaw(job.dump(), run.id);
    run.state = WaitForStatus(run.id, {"succeeded", "failed", "timed_out", "cancelled", "dead"},
                              std::chrono::seconds(240));
    for (const auto& event : Events(run.id)) run.said += event.dump() + "\n";
    // The processes' output is in the build log (stream BUILD_LOGS), not in the events.
    auto log = ReadLog(*client_, run.id, {}, [&run](const LogPiece& piece) {
      run.said += piece.chunk.text;
      return true;
    });
    if (!log.ok()) ADD_FAILURE() << "cannot read the build log of " << run.id << ": " << log.error();
    run.said += run.state.dump();
    return run;
  }

  /// Nothing secret reached anything a reader of the build sees, in any spelling redaction
  /// could miss (reversed), nor a line of the host's /etc/shadow.
  static void ExpectNothingLeaked(const AttackRun& run) {
    for (std::string secret : {kFileSecret, kEnvSecret, kWorkerEnvSecret}) {
      EXPECT_EQ(run.said.find(secret), std::string::npos) << secret << " leaked:\n" << run.said;
      std::string reversed(secret.rbegin(), secret.rend());
      EXPECT_EQ(run.said.find(reversed), std::string::npos) << secret << " leaked reversed:\n" << run.said;
    }
    EXPECT_EQ(run.said.find("root:"), std::string::npos) << "a line of /etc/shadow or /etc/passwd:\n" << run.said;
  }

  /// The job's own output contains `text` (the attack's report of what it could not do).
  static void ExpectSaid(const AttackRun& run, const std::string& text) {
    EXPECT_NE(run.said.find(text), std::string::npos) << "expected '" << text << "' in:\n" << run.said;
  }

  /// After the attack the same worker still runs a job to success.
  void ExpectStillServing() {
    const std::string id = "after-" + std::to_string(++jobs_);
    PublishJob(id, "noop");
    auto state = WaitForStatus(id, {"succeeded", "failed", "dead"}, std::chrono::seconds(60));
    EXPECT_EQ(state.value("status", ""), "succeeded") << state.dump();
  }

  std::string status(const AttackRun& run) const { return run.state.value("status", ""); }

  GitServer git_{dir_.path() / "git"};
  int metrics_port_ = 0;
  int jobs_ = 0;
};

}  // namespace kiln::testing
