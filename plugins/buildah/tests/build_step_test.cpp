#include "build_step.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "buildah_fixture.hpp"
#include "image_naming.hpp"
#include "kiln/repository_area.hpp"
#include "support/loopback_listener.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::ReadFile;
using kiln::testing::WriteFile;

TEST_F(BuildahStepTest, FromScratchImageLandsInTheConfiguredStore) {
  fs::path context = Context("scratch", "FROM scratch\nCOPY hello.txt /hello.txt\n", {{"hello.txt", "hello from kiln\n"}});
  StepResult result = Run("build", {{"context", context.string()}});
  ASSERT_TRUE(result.ok()) << result.message;

  std::string image_id = result.outputs.at("image_id");
  EXPECT_EQ(image_id.size(), 64u) << image_id;
  EXPECT_EQ(result.outputs.at("digest").get<std::string>().rfind("sha256:", 0), 0u) << result.outputs.dump();
  EXPECT_EQ(result.outputs.at("tags"),
            nlohmann::json::array({"localhost/acme/shop:9fceb02d0ae5", "localhost/acme/shop:main"}));

  std::string images = Buildah("images --no-trunc --format '{{.Name}}:{{.Tag}}={{.ID}}'");
  EXPECT_NE(images.find("localhost/acme/shop:9fceb02d0ae5=sha256:" + image_id), std::string::npos) << images;
  EXPECT_NE(images.find("localhost/acme/shop:main=sha256:" + image_id), std::string::npos) << images;

  // The file is in the image: mount a container of it and read it.
  std::string container = Buildah("from --pull-never localhost/acme/shop:main");
  container = container.substr(0, container.find('\n'));
  std::string mount = Buildah("mount " + container);
  mount = mount.substr(0, mount.find('\n'));
  EXPECT_EQ(ReadFile(fs::path(mount) / "hello.txt"), "hello from kiln\n");
  Buildah("umount " + container);
  // Output was streamed to the step log.
  EXPECT_NE(harness_->log_text().find("COPY hello.txt /hello.txt"), std::string::npos) << harness_->log_text();
}

TEST_F(BuildahStepTest, BusyboxBaseWithARunStepBuildsAndTheImageRuns) {
  NeedBase();
  fs::path context = Context("app", std::string("FROM ") + kBase + "\nRUN echo built-by-run > /built && mkdir /app\n"
                                                                    "COPY greet.sh /app/greet.sh\n",
                             {{"greet.sh", "echo \"greeting from $(cat /built)\"\n"}});
  StepResult result = Run("build", {{"context", context.string()}, {"tags", {"v1"}}});
  ASSERT_TRUE(result.ok()) << result.message;

  std::string container = Buildah("from --pull-never localhost/acme/shop:v1");
  container = container.substr(0, container.find('\n'));
  std::string output = Buildah("run --isolation chroot " + container + " -- /bin/sh /app/greet.sh");
  EXPECT_NE(output.find("greeting from built-by-run"), std::string::npos) << output;
}

TEST_F(BuildahStepTest, TagsFromCommitBranchAndArgumentsAreSanitised) {
  harness_->job["branch"] = "feature/Foo_bar";
  fs::path context = Context("tags", "FROM scratch\nCOPY a /a\n", {{"a", "a"}});
  StepResult result = Run("build", {{"context", context.string()}, {"tags", {"Release/1.0", "latest"}},
                                    {"repository", "registry.example.com:5000/team/app"}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs.at("tags"), nlohmann::json::array({"registry.example.com:5000/team/app:9fceb02d0ae5",
                                                              "registry.example.com:5000/team/app:feature-foo_bar",
                                                              "registry.example.com:5000/team/app:release-1.0",
                                                              "registry.example.com:5000/team/app:latest"}));
  std::string images = Buildah("images --format '{{.Name}}:{{.Tag}}'");
  for (const auto& tag : result.outputs.at("tags")) {
    EXPECT_NE(images.find(tag.get<std::string>()), std::string::npos) << images;
  }
}

TEST_F(BuildahStepTest, OciLabelsAndGivenLabelsAreOnTheImage) {
  harness_->job["repo"]["url"] = "https://ci-bot:s3cr3t-token@git.example.com/acme/shop.git";
  fs::path context = Context("labels", "FROM scratch\nCOPY a /a\n", {{"a", "a"}});
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  StepResult result = Run("build", {{"context", context.string()}, {"labels", {{"team", "payments"}}}});
  ASSERT_TRUE(result.ok()) << result.message;
  nlohmann::json image = nlohmann::json::parse(
      Buildah("inspect --type image " + result.outputs.at("image_id").get<std::string>()));
  nlohmann::json labels = image.at("OCIv1").at("config").at("Labels");
  EXPECT_EQ(labels["org.opencontainers.image.revision"], "9fceb02d0ae598e95dc970b74767f19372d61af8");
  EXPECT_EQ(labels["org.opencontainers.image.source"], "https://git.example.com/acme/shop.git");
  EXPECT_EQ(labels["team"], "payments");
  std::string created = labels["org.opencontainers.image.created"];
  EXPECT_GE(created, Rfc3339Utc(before)) << created;  // RFC 3339 UTC strings sort as times
  EXPECT_EQ(created.size(), 20u) << created;
}

TEST_F(BuildahStepTest, MissingDockerfileIsTerminalAndNamesThePath) {
  fs::create_directories(harness_->workspace() / "empty");
  StepResult result = Run("build", {{"context", "empty"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("no Dockerfile or Containerfile in build context " +
                                fs::canonical(harness_->workspace() / "empty").string()),
            std::string::npos)
      << result.message;

  result = Run("build", {{"context", "empty"}, {"dockerfile", "build/Dockerfile"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("build/Dockerfile does not exist"), std::string::npos) << result.message;
}

TEST_F(BuildahStepTest, DockerfileOutsideTheContextIsTerminal) {
  fs::path context = Context("inside", "FROM scratch\n");
  WriteFile(harness_->workspace() / "evil.Dockerfile", "FROM scratch\nCOPY . /\n");
  fs::remove(context / "Dockerfile");
  fs::create_symlink(harness_->workspace() / "evil.Dockerfile", context / "Dockerfile");
  StepResult result = Run("build", {{"context", context.string()}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("lies outside the build context"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("evil.Dockerfile"), std::string::npos) << result.message;
}

TEST_F(BuildahStepTest, DockerfileWithoutFromIsTerminal) {
  fs::path context = Context("nofrom", "# nothing to build from\nRUN echo hi\n");
  StepResult result = Run("build", {{"context", context.string()}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find((fs::canonical(context) / "Dockerfile").string() + ": line 2: run comes before the first FROM"),
            std::string::npos)
      << result.message;
}

TEST_F(BuildahStepTest, FailingRunStepIsTerminalWithTheOutputTail) {
  NeedBase();
  fs::path context = Context("failing", std::string("FROM ") + kBase +
                                            "\nRUN echo compile-error-in-main.c >&2; echo second-line; exit 3\n");
  StepResult result = Run("build", {{"context", context.string()}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("compile-error-in-main.c"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("second-line"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("exit status 3"), std::string::npos) << result.message;
}

TEST_F(BuildahStepTest, RunStepsReachNoLoopbackPortUnlessHostNetworkIsAsked) {
  NeedBase();
  testing::LoopbackListener listener;
  std::string run = "RUN echo ping-from-run | nc -w 5 127.0.0.1 " + std::to_string(listener.port()) + "\n";
  fs::path context = Context("network", std::string("FROM ") + kBase + "\n" + run);

  StepResult isolated = Run("build", {{"context", context.string()}});
  EXPECT_EQ(isolated.status, StepResult::Status::terminal) << isolated.message;
  EXPECT_NE(isolated.message.find("Network is unreachable"), std::string::npos) << isolated.message;
  EXPECT_EQ(listener.connections(), 0);

  StepResult host = Run("build", {{"context", context.string()}, {"network", "host"}});
  ASSERT_TRUE(host.ok()) << host.message;
  EXPECT_EQ(listener.connections(), 1);
  EXPECT_NE(listener.received().find("ping-from-run"), std::string::npos) << listener.received();
}

TEST_F(BuildahStepTest, RunStepsSeeBuildArgsButNotTheWorkersEnvironment) {
  NeedBase();
  ::setenv("KILN_WORKER_ONLY_VALUE", "worker-env-must-not-leak", 1);
  fs::path context = Context("env", std::string("FROM ") + kBase +
                                        "\nARG GREETING\nRUN env | sort > /env.txt; cat /env.txt; "
                                        "test \"$GREETING\" = hello-arg\n");
  StepResult result = Run("build", {{"context", context.string()}, {"build_args", {{"GREETING", "hello-arg"}}}});
  ::unsetenv("KILN_WORKER_ONLY_VALUE");
  ASSERT_TRUE(result.ok()) << result.message;
  std::string log = harness_->log_text();
  EXPECT_NE(log.find("GREETING=hello-arg"), std::string::npos) << log;
  EXPECT_EQ(log.find("worker-env-must-not-leak"), std::string::npos) << log;
  EXPECT_EQ(log.find("KILN_WORKER_ONLY_VALUE"), std::string::npos) << log;
}

TEST_F(BuildahStepTest, RebuildOfAnUnchangedContextTagsTheEarlierImage) {
  NeedBase();
  fs::path context = Context("cached", std::string("FROM ") + kBase + "\nRUN echo layer > /layer\nCOPY a /a\n",
                             {{"a", "a"}});
  nlohmann::json args = {{"context", context.string()}, {"created", "2026-11-22T10:15:02Z"}};
  StepResult first = Run("build", args);
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(first.outputs.at("reused"), false);
  std::size_t first_log_lines = harness_->logs().size();
  args["tags"] = {"again"};
  StepResult second = Run("build", args);
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_EQ(second.outputs.at("reused"), true);
  EXPECT_EQ(second.outputs.at("image_id"), first.outputs.at("image_id"));
  EXPECT_EQ(second.outputs.at("digest"), first.outputs.at("digest"));
  std::string second_log;
  for (std::size_t i = first_log_lines; i < harness_->logs().size(); ++i) second_log += harness_->logs()[i] + "\n";
  EXPECT_NE(second_log.find("tagging it instead of building again"), std::string::npos) << second_log;
  EXPECT_EQ(second_log.find("STEP 1/3"), std::string::npos) << second_log;  // buildah bud never ran
  // The new tag is on the earlier image.
  std::string again;
  for (const auto& reference : second.outputs.at("tags")) {
    if (reference.get<std::string>().ends_with(":again")) again = reference;
  }
  ASSERT_FALSE(again.empty()) << second.outputs.dump();
  EXPECT_EQ(nlohmann::json::parse(Buildah("inspect --type image " + again)).at("FromImageID"),
            first.outputs.at("image_id"));
}

// Each buildah process costs 50-90 ms; a build should start only its `buildah bud`, and a
// rebuild of an unchanged context only its `buildah tag` (image_store_index.hpp).
TEST_F(BuildahStepTest, ABuildStartsNoBuildahProcessBesidesItsBudAndARebuildOnlyATag) {
  NeedBase();
  const fs::path calls = dir_.path() / "buildah-calls";
  const fs::path wrapper = dir_.path() / "buildah-wrapper";
  WriteFile(wrapper, "#!/bin/sh\nfor a in \"$@\"; do case $a in bud|inspect|images|tag|pull) echo $a >> '" +
                         calls.string() + "'; break;; esac; done\nexec buildah \"$@\"\n");
  fs::permissions(wrapper, fs::perms::owner_all);
  nlohmann::json config = store_->plugin_config();
  config["binary"] = wrapper.string();
  ASSERT_EQ(plugin_.configure(config), "");

  fs::path context = Context("counted", std::string("FROM ") + kBase + "\nRUN echo layer > /layer\n");
  nlohmann::json args = {{"context", context.string()}, {"created", "2026-11-22T10:15:02Z"}};
  StepResult first = Run("build", args);
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(ReadFile(calls), "bud\n");
  fs::remove(calls);
  StepResult second = Run("build", args);
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_EQ(second.outputs.at("reused"), true);
  EXPECT_EQ(second.outputs.at("digest"), first.outputs.at("digest"));
  EXPECT_EQ(ReadFile(calls), "tag\n");
}

TEST_F(BuildahStepTest, AnEarlierBuildsImageRemovedSinceIsBuiltAgain) {
  fs::path context = Context("removed", "FROM scratch\nCOPY a /a\n", {{"a", "a"}});
  nlohmann::json args = {{"context", context.string()}, {"created", "2026-11-22T10:15:02Z"}};
  StepResult first = Run("build", args);
  ASSERT_TRUE(first.ok()) << first.message;
  Buildah("rmi -f " + first.outputs.at("image_id").get<std::string>());
  StepResult second = Run("build", args);
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_EQ(second.outputs.at("reused"), false);
  EXPECT_EQ(second.outputs.at("digest").get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_EQ(Run("build", args).outputs.at("reused"), true);
}

TEST_F(BuildahStepTest, AChangedLabelBuildsAgainFromTheLayerCache) {
  NeedBase();
  fs::path context = Context("layers", std::string("FROM ") + kBase + "\nRUN echo layer > /layer\nCOPY a /a\n",
                             {{"a", "a"}});
  StepResult first = Run("build", {{"context", context.string()}});
  ASSERT_TRUE(first.ok()) << first.message;
  std::size_t first_log_lines = harness_->logs().size();
  StepResult second = Run("build", {{"context", context.string()}, {"labels", {{"team", "b"}}}});
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_EQ(second.outputs.at("reused"), false);
  std::string second_log;
  for (std::size_t i = first_log_lines; i < harness_->logs().size(); ++i) second_log += harness_->logs()[i] + "\n";
  EXPECT_NE(second_log.find("Using cache"), std::string::npos) << second_log;
  // The RUN step did not run again: the image differs in its labels, its layers are the cached ones.
  EXPECT_EQ(second_log.find("STEP 2/3: RUN echo layer > /layer\nSTEP 3/3"), std::string::npos) << second_log;
  EXPECT_NE(second.outputs.at("image_id"), first.outputs.at("image_id"));
  auto layers = [&](const StepResult& built) {
    nlohmann::json image = nlohmann::json::parse(
        Buildah("inspect --type image " + built.outputs.at("image_id").get<std::string>()));
    return image.at("OCIv1").at("rootfs").at("diff_ids");
  };
  EXPECT_EQ(layers(second), layers(first));
}

TEST_F(BuildahStepTest, AnyChangeThatCountsBuildsAgain) {
  fs::path context = Context("changes", "FROM scratch\nARG X\nCOPY . /src\n",
                             {{"a", "one"}, {".dockerignore", "ignored/\n"}, {"ignored/x", "1"}});
  nlohmann::json args = {{"context", context.string()}};
  auto reused = [&](const nlohmann::json& a) {
    StepResult result = Run("build", a);
    EXPECT_TRUE(result.ok()) << result.message;
    return result.ok() && result.outputs.at("reused").get<bool>();
  };
  EXPECT_FALSE(reused(args));
  EXPECT_TRUE(reused(args));
  WriteFile(context / "ignored" / "x", "2");  // left out by .dockerignore: not a change
  EXPECT_TRUE(reused(args));
  WriteFile(context / "a", "two");
  EXPECT_FALSE(reused(args));
  fs::permissions(context / "a", fs::perms::owner_exec, fs::perm_options::add);
  EXPECT_FALSE(reused(args));
  nlohmann::json with_arg = args;
  with_arg["build_args"] = {{"X", "1"}};
  EXPECT_FALSE(reused(with_arg));
  EXPECT_TRUE(reused(with_arg));
  nlohmann::json no_layers = args;
  no_layers["layers"] = false;  // a build from nothing was asked for
  EXPECT_FALSE(reused(no_layers));
}

TEST_F(BuildahStepTest, CacheMountsKeepFilesInTheBuildCacheBetweenBuilds) {
  NeedBase();
  fs::path context = Context("deps", std::string("FROM ") + kBase +
                                         "\nARG RUN_ID\nRUN echo \"run $RUN_ID\" >> /root-cache/runs && cat /root-cache/runs\n");
  nlohmann::json args = {{"context", context.string()}, {"cache_mounts", {{{"target", "/root-cache"}, {"id", "deps"}}}}};
  args["build_args"] = {{"RUN_ID", "1"}};
  StepResult first = Run("build", args);
  ASSERT_TRUE(first.ok()) << first.message;
  args["build_args"] = {{"RUN_ID", "2"}};
  StepResult second = Run("build", args);
  ASSERT_TRUE(second.ok()) << second.message;
  const fs::path area = repository_area::AreaRoot(harness_->build_cache_dir(), harness_->job);
  EXPECT_EQ(ReadFile(area / "buildah" / "id" / "deps" / "runs"), "run 1\nrun 2\n");

  // Another repository's build with the same id has a cache of its own: a RUN step is the
  // repository's code, and what it leaves must not feed another repository's build.
  harness_->job["repo"]["url"] = "https://git.example/attacker/shop.git";
  args["build_args"] = {{"RUN_ID", "3"}};
  StepResult other = Run("build", args);
  ASSERT_TRUE(other.ok()) << other.message;
  EXPECT_EQ(ReadFile(area / "buildah" / "id" / "deps" / "runs"), "run 1\nrun 2\n");
  EXPECT_EQ(ReadFile(repository_area::AreaRoot(harness_->build_cache_dir(), harness_->job) / "buildah" / "id" / "deps" /
                     "runs"),
            "run 3\n");
}

TEST_F(BuildahStepTest, ACacheMountCanBeALanguagesDependencyArea) {
  // Laid out as the NX plugin's, in the repository's area the cache plugin evicts; apart
  // from the one the job sandbox writes, whose links a bind made as root would follow.
  NeedBase();
  fs::path context = Context("npm-deps", std::string("FROM ") + kBase + "\nRUN echo cached > /root/.npm/from-build\n");
  StepResult built = Run("build", {{"context", context.string()},
                                   {"cache_mounts", {{{"target", "/root/.npm"}, {"cache", "npm"}}}}});
  ASSERT_TRUE(built.ok()) << built.message;
  const fs::path area = repository_area::AreaRoot(harness_->build_cache_dir(), harness_->job);
  EXPECT_EQ(ReadFile(area / "buildah" / "deps" / "npm" / "npm" / "from-build"), "cached\n");
  EXPECT_TRUE(fs::exists(area / ".kiln-last-used"));

  EXPECT_EQ(Run("build", {{"context", context.string()}, {"cache_mounts", {{{"target", "/x"}, {"cache", "cargo"}}}}}).message,
            "buildah.build: cache_mounts: cache must name a dependency cache (maven, gradle, npm, go, nuget, pip), got "
            "\"cargo\"");
  EXPECT_EQ(Run("build", {{"context", context.string()},
                          {"cache_mounts", {{{"target", "/x"}, {"cache", "npm"}, {"id", "y"}}}}}).message,
            "buildah.build: cache_mounts: give either id or cache, not both");
  EXPECT_EQ(Run("build", {{"context", context.string()}, {"cache_mounts", {{{"target", "/x"}, {"ids", "y"}}}}}).message,
            "buildah.build: cache_mounts: unknown key 'ids' (known: target, id, cache)");
}

TEST_F(BuildahStepTest, MultiStageTargetAndBadArguments) {
  fs::path context = Context("stages", "FROM scratch AS one\nCOPY a /a\nFROM scratch AS two\nCOPY b /b\n",
                             {{"a", "a"}, {"b", "b"}});
  StepResult result = Run("build", {{"context", context.string()}, {"target", "one"}});
  ASSERT_TRUE(result.ok()) << result.message;

  EXPECT_EQ(Run("build", {{"context", context.string()}, {"network", "bridge"}}).message,
            "buildah.build: network: must be 'none' or 'host', got 'bridge'");
  EXPECT_EQ(Run("build", {{"context", context.string()}, {"tag", "x"}}).status, StepResult::Status::terminal);
  EXPECT_EQ(Run("build", {{"context", context.string()}, {"tags", {"///"}}}).message,
            "buildah.build: tags: '///' leaves no valid tag");
  EXPECT_EQ(Run("build", {{"context", context.string()}, {"cache_mounts", {"relative"}}}).status,
            StepResult::Status::terminal);
  EXPECT_EQ(Run("build", {{"context", context.string()}, {"created", "yesterday"}}).message,
            "buildah.build: created: must be an RFC 3339 time like 2026-11-22T10:15:02Z, got 'yesterday'");
}

TEST_F(BuildahStepTest, TimeoutStopsBuildahAndItsRunStep) {
  NeedBase();
  fs::path context = Context("slow", std::string("FROM ") + kBase + "\nRUN sleep 3001\n");
  auto started = std::chrono::steady_clock::now();
  StepResult result = harness_->run(plugin_, "build", {{"context", context.string()}}, std::chrono::seconds(3));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(result.ok());
  EXPECT_LT(elapsed, std::chrono::seconds(120));  // a bound far from 3001 s, not a speed claim
  // '[s]leep' matches the RUN step's process but not this shell's own command line.
  std::string leftovers;
  for (int i = 0; i < 50; ++i) {
    kiln::testing::Shell("pgrep -f '[s]leep 3001' || true", &leftovers);
    if (leftovers.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(leftovers, "") << "the RUN step outlived its step";
}

}  // namespace
}  // namespace kiln::buildah
