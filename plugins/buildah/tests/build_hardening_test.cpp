// The build step against hostile Dockerfiles and secret build args, with real buildah:
// what is refused never reaches buildah, and a secret never reaches a command line or a
// registry.
#include <dirent.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "buildah_fixture.hpp"
#include "kiln/plugin.hpp"
#include "kiln/step_context.hpp"
#include "support/loopback_listener.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::ReadFile;
using kiln::testing::WriteFile;

constexpr const char* kSecret = "kiln-s3cret-build-arg-7f3a";

/// Every process's command line, NULs read as spaces.
std::vector<std::string> AllCommandLines() {
  std::vector<std::string> lines;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return lines;
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string line = text.str();
    for (char& c : line) {
      if (c == '\0') c = ' ';
    }
    if (!line.empty()) lines.push_back(line);
  }
  ::closedir(proc);
  return lines;
}

/// Scans /proc/*/cmdline over and over until stopped: what held the secret, and which
/// buildah commands it saw (so a scan that saw nothing cannot pass).
class CommandLineScan {
 public:
  explicit CommandLineScan(std::string needle) : needle_(std::move(needle)), thread_([this] { Scan(); }) {}
  ~CommandLineScan() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::set<std::string>& leaks() const { return leaks_; }
  int buildah_buds_seen() const { return buds_; }

 private:
  void Scan() {
    while (!stop_) {
      for (const std::string& line : AllCommandLines()) {
        if (line.find(needle_) != std::string::npos) leaks_.insert(line);
        if (line.find("buildah") != std::string::npos && line.find(" bud ") != std::string::npos) ++buds_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string needle_;
  std::atomic<bool> stop_{false};
  std::set<std::string> leaks_;
  int buds_ = 0;
  std::thread thread_;
};

class BuildHardeningTest : public BuildahStepTest {
 protected:
  /// Points the plugin at a wrapper that records each buildah argv, one per line.
  void RecordBuildahCalls() {
    const fs::path wrapper = dir_.path() / "buildah-wrapper";
    WriteFile(wrapper, "#!/bin/sh\necho \"$*\" >> '" + calls_.string() + "'\nexec buildah \"$@\"\n");
    fs::permissions(wrapper, fs::perms::owner_all);
    nlohmann::json config = store_->plugin_config();
    config["binary"] = wrapper.string();
    ASSERT_EQ(plugin_.configure(config), "");
  }
  std::string Calls() { return fs::exists(calls_) ? ReadFile(calls_) : std::string(); }

  fs::path calls_ = dir_.path() / "buildah-calls";
};

// CVE-2024-9675 in buildah 1.28: without the check this build reads the host's file.
TEST_F(BuildHardeningTest, ACacheIdThatClimbsToTheHostIsRefusedBeforeBuildahRuns) {
  NeedBase();
  RecordBuildahCalls();
  const fs::path marker = dir_.path() / "host-only" / "marker";
  WriteFile(marker, "host-file-content-9b1c\n");
  fs::path context =
      Context("cve", std::string("FROM ") + kBase + "\nRUN --mount=type=cache,id=../../../../../../../../../..,target=/h"
                                                    " cat /h" + marker.string() + "\n");
  StepResult result = Run("build", {{"context", context.string()}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("line 2: RUN --mount=type=cache"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("'id' has a '..' component"), std::string::npos) << result.message;
  EXPECT_EQ(harness_->log_text().find("host-file-content"), std::string::npos) << harness_->log_text();
  EXPECT_EQ(Calls().find(" bud "), std::string::npos) << Calls();
}

TEST_F(BuildHardeningTest, ABindSourceLinkedOutOfTheContextIsRefused) {
  NeedBase();
  RecordBuildahCalls();
  const fs::path marker = dir_.path() / "host-only" / "marker";
  WriteFile(marker, "host-file-content-9b1c\n");
  fs::path context = Context("bind", std::string("FROM ") + kBase +
                                         "\nRUN --mount=type=bind,source=out,target=/h cat /h/marker\n");
  fs::create_symlink(marker.parent_path(), context / "out");
  StepResult result = Run("build", {{"context", context.string()}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("line 2: RUN --mount source"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("outside the build context"), std::string::npos) << result.message;
  EXPECT_EQ(harness_->log_text().find("host-file-content"), std::string::npos) << harness_->log_text();
  EXPECT_EQ(Calls().find(" bud "), std::string::npos) << Calls();
}

TEST_F(BuildHardeningTest, AnOrdinaryCacheMountStillBuilds) {
  NeedBase();
  fs::path context = Context("cache", std::string("FROM ") + kBase +
                                          "\nRUN --mount=type=cache,id=kiln-test-cache,target=/c echo x > /c/f && cat /c/f\n");
  StepResult result = Run("build", {{"context", context.string()}});
  EXPECT_TRUE(result.ok()) << result.message;
}

// Today `FROM 127.0.0.1:5999/x:${TOKEN}` would send the token to that host in the pull
// that comes before the offline build.
TEST_F(BuildHardeningTest, ASecretBuildArgInAnImageNameIsRefusedAndNothingIsPulled) {
  testing::LoopbackListener registry;
  harness_->set_secret("REGISTRY_TOKEN", kSecret);
  const std::string host = "127.0.0.1:" + std::to_string(registry.port());
  const std::vector<std::pair<std::string, std::string>> dockerfiles = {
      {"FROM", "ARG TOKEN\nFROM " + host + "/x:${TOKEN}\n"},
      {"T2", "ARG TOKEN\nARG T2=$TOKEN\nFROM " + host + "/x:$T2\n"},
      {"COPY --from", "FROM scratch\nARG TOKEN\nCOPY --from=" + host + "/x:$TOKEN /a /a\n"},
      {"RUN --mount from", "FROM scratch\nARG TOKEN\nRUN --mount=type=bind,from=" + host + "/x:$TOKEN,target=/h true\n"},
  };
  int n = 0;
  for (const auto& [named, dockerfile] : dockerfiles) {
    fs::path context = Context("secret-from-" + std::to_string(n++), dockerfile);
    for (const char* network : {"none", "host"}) {
      StepResult result = Run("build", {{"context", context.string()},
                                        {"build_args", {{"TOKEN", kSecret}}},
                                        {"network", network}});
      EXPECT_EQ(result.status, StepResult::Status::terminal) << dockerfile << result.message;
      EXPECT_NE(result.message.find(named), std::string::npos) << result.message;
      EXPECT_NE(result.message.find("whose value is a secret"), std::string::npos) << result.message;
      EXPECT_EQ(result.message.find(kSecret), std::string::npos) << result.message;
    }
  }
  EXPECT_EQ(registry.connections(), 0) << registry.received();
}

// A secret build arg reaches the RUN step but never a command line: the scan reads every
// process's /proc/<pid>/cmdline while buildah runs.
TEST_F(BuildHardeningTest, ASecretBuildArgIsOnNoCommandLineWhileTheBuildRuns) {
  NeedBase();
  RecordBuildahCalls();
  harness_->set_secret("BUILD_TOKEN", kSecret);
  // The expected value is split in two, so that the RUN line itself (on buildah's RUN
  // process's command line) does not hold what the scan looks for.
  fs::path context = Context("argv", std::string("FROM ") + kBase +
                                         "\nARG TOKEN\nARG PLAIN\n"
                                         "RUN test \"$TOKEN\" = 'kiln-s3cret-''build-arg-7f3a' && test \"$PLAIN\" = plain-value"
                                         " && echo token-arrived && sleep 2\n");
  CommandLineScan scan(kSecret);
  StepResult result = Run("build", {{"context", context.string()},
                                    {"build_args", {{"TOKEN", kSecret}, {"PLAIN", "plain-value"}}}});
  scan.Stop();
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_NE(harness_->log_text().find("token-arrived"), std::string::npos) << harness_->log_text();
  EXPECT_GT(scan.buildah_buds_seen(), 0) << "the scan never saw buildah bud running";
  for (const std::string& leak : scan.leaks()) ADD_FAILURE() << "secret on a command line: " << leak;
  // Only its name went on buildah's command line; the plain value stays visible there.
  EXPECT_NE(Calls().find("--build-arg TOKEN "), std::string::npos) << Calls();
  EXPECT_NE(Calls().find("--build-arg PLAIN=plain-value"), std::string::npos) << Calls();
  EXPECT_EQ(harness_->log_text().find(kSecret), std::string::npos);
  // Nor is it in the image: buildah would write "|2 PLAIN=... TOKEN=..." into its history.
  std::string image = Buildah("inspect --type image " + result.outputs.at("image_id").get<std::string>());
  EXPECT_EQ(image.find(kSecret), std::string::npos) << image;
}

TEST_F(BuildHardeningTest, ASecretBuildArgNamedLikeBuildahsOwnEnvironmentIsRefused) {
  harness_->set_secret("BUILD_TOKEN", kSecret);
  fs::path context = Context("reserved", "FROM scratch\nARG PATH\n");
  for (const char* name : {"PATH", "TMPDIR", "LD_PRELOAD", "BUILDAH_ISOLATION", "CONTAINERS_CONF", "_BUILDAH_STARTED_IN_USERNS"}) {
    StepResult result = Run("build", {{"context", context.string()}, {"build_args", {{name, kSecret}}}});
    EXPECT_EQ(result.status, StepResult::Status::terminal) << name;
    EXPECT_NE(result.message.find(std::string("build_args: ") + name + " holds a secret"), std::string::npos)
        << result.message;
  }
  // The same names with plain values go on the command line as before.
  StepResult plain = Run("build", {{"context", context.string()}, {"build_args", {{"PATH", "/usr/bin"}}}});
  EXPECT_TRUE(plain.ok()) << plain.message;
}

// Every buildah argv ends its options with `--`, so no name from a job is read as an option.
TEST_F(BuildHardeningTest, EveryBuildahArgvEndsItsOptionsWithDoubleDash) {
  NeedBase();
  RecordBuildahCalls();
  fs::path context = Context("dash", std::string("FROM ") + kBase + "\nRUN echo a > /a\n");
  nlohmann::json args = {{"context", context.string()}, {"created", "2026-11-22T10:15:02Z"}, {"layers", true}};
  ASSERT_TRUE(Run("build", args).ok());
  ASSERT_TRUE(Run("build", args).ok());  // a rebuild: a tag of the earlier image
  ASSERT_TRUE(Run("tag", {{"image", "localhost/acme/shop:main"}, {"tags", {"dash"}}}).ok());
  StepResult pushed = Run("push", {{"image", "localhost/acme/shop:main"},
                                   {"destination", "dir:" + (dir_.path() / "pushed").string()}});
  ASSERT_TRUE(pushed.ok()) << pushed.message;

  std::istringstream lines(Calls());
  int checked = 0;
  for (std::string line; std::getline(lines, line); ++checked) {
    EXPECT_NE((line + " ").find(" -- "), std::string::npos) << line;
  }
  EXPECT_GE(checked, 4) << Calls();
}

TEST_F(BuildHardeningTest, ImageNamesThatLookLikeOptionsAreRefused) {
  RecordBuildahCalls();
  StepResult tag = Run("tag", {{"image", "--all"}, {"tags", {"x"}}});
  EXPECT_EQ(tag.status, StepResult::Status::terminal);
  EXPECT_NE(tag.message.find("image: '--all' begins with '-'"), std::string::npos) << tag.message;
  StepResult push = Run("push", {{"image", "-q"}, {"destination", "dir:/tmp/x"}});
  EXPECT_EQ(push.status, StepResult::Status::terminal);
  EXPECT_NE(push.message.find("image: '-q' begins with '-'"), std::string::npos) << push.message;
  StepResult destination = Run("push", {{"image", "localhost/x"}, {"destination", "--rm"}});
  EXPECT_EQ(destination.status, StepResult::Status::terminal);
  EXPECT_NE(destination.message.find("destination: '--rm' begins with '-'"), std::string::npos) << destination.message;
  fs::path context = Context("dash-from", "ARG BASE=--pull=always\nFROM ${BASE}\n");
  StepResult build = Run("build", {{"context", context.string()}});
  EXPECT_EQ(build.status, StepResult::Status::terminal);
  EXPECT_NE(build.message.find("line 2: FROM: '--pull=always' begins with '-'"), std::string::npos) << build.message;
  EXPECT_EQ(Calls(), "");
}

// buildah 1.28 runs a Docker-format base image's ONBUILD triggers in the child build: a
// base from a registry could carry the cache-id escape the Dockerfile itself may not.
TEST_F(BuildHardeningTest, ABaseImagesOnBuildTriggersAreCheckedLikeTheDockerfile) {
  NeedBase();
  const fs::path marker = dir_.path() / "host-only" / "marker";
  WriteFile(marker, "host-file-content-9b1c\n");
  const fs::path evil = dir_.path() / "evil-base";
  WriteFile(evil / "Dockerfile", std::string("FROM ") + kBase +
                                     "\nONBUILD RUN --mount=type=cache,id=../../../../../../../../../..,target=/h cat /h" +
                                     marker.string() + "\n");
  Buildah("bud --format docker --isolation chroot -t localhost/kiln-test/evil-onbuild:1 " + evil.string());
  const fs::path fine = dir_.path() / "fine-base";
  WriteFile(fine / "Dockerfile", std::string("FROM ") + kBase + "\nONBUILD RUN echo trigger-ran > /trigger\n");
  Buildah("bud --format docker --isolation chroot -t localhost/kiln-test/fine-onbuild:1 " + fine.string());
  RecordBuildahCalls();

  fs::path child = Context("onbuild", "FROM localhost/kiln-test/evil-onbuild:1\nRUN true\n");
  StepResult refused = Run("build", {{"context", child.string()}});
  EXPECT_EQ(refused.status, StepResult::Status::terminal) << refused.message;
  EXPECT_NE(refused.message.find("base image localhost/kiln-test/evil-onbuild:1: ONBUILD trigger"), std::string::npos)
      << refused.message;
  EXPECT_NE(refused.message.find("'id' has a '..' component"), std::string::npos) << refused.message;
  EXPECT_EQ(harness_->log_text().find("host-file-content"), std::string::npos) << harness_->log_text();
  EXPECT_EQ(Calls().find(" bud "), std::string::npos) << Calls();

  fs::path ok = Context("onbuild-fine", "FROM localhost/kiln-test/fine-onbuild:1\nRUN cat /trigger\n");
  StepResult built = Run("build", {{"context", ok.string()}});
  EXPECT_TRUE(built.ok()) << built.message;
  EXPECT_NE(harness_->log_text().find("trigger-ran"), std::string::npos) << harness_->log_text();
}

/// The engine's context, recording every process a step asks it to run.
class RecordingContext final : public StepContext {
 public:
  explicit RecordingContext(StepContext& inner) : inner_(inner) {}
  const nlohmann::json& job() const override { return inner_.job(); }
  const nlohmann::json& config() const override { return inner_.config(); }
  std::string workspace() const override { return inner_.workspace(); }
  std::string code_cache_dir() const override { return inner_.code_cache_dir(); }
  std::string build_cache_dir() const override { return inner_.build_cache_dir(); }
  void log(std::string_view line) override { inner_.log(line); }
  void warn(std::string_view line) override { inner_.warn(line); }
  void progress(double percent, std::string_view message) override { inner_.progress(percent, message); }
  bool cancelled() const override { return inner_.cancelled(); }
  ProcessResult run(const ProcessSpec& spec) override {
    specs.push_back(spec);
    return inner_.run(spec);
  }
  std::optional<std::string> secret(std::string_view name) override { return inner_.secret(name); }
  void add_redaction(std::string_view value) override { inner_.add_redaction(value); }
  bool is_secret(std::string_view value) const override { return inner_.is_secret(value); }

  std::vector<ProcessSpec> specs;

 private:
  StepContext& inner_;
};

/// The buildah plugin, run through a RecordingContext.
class RecordingPlugin final : public Plugin {
 public:
  explicit RecordingPlugin(Plugin& inner) : inner_(inner) {}
  std::string_view name() const override { return inner_.name(); }
  std::string_view version() const override { return inner_.version(); }
  std::vector<std::string> steps() const override { return inner_.steps(); }
  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) override {
    RecordingContext recording(ctx);
    StepResult result = inner_.run(step, args, recording);
    specs.insert(specs.end(), recording.specs.begin(), recording.specs.end());
    return result;
  }
  std::vector<ProcessSpec> specs;

 private:
  Plugin& inner_;
};

// buildah needs root and kiln's store, and treats the repository as data: it runs as the
// worker, not in the job sandbox (which is every process's default).
TEST_F(BuildHardeningTest, EveryBuildahProcessRunsAsTheWorkerAndNoArgvHoldsASecret) {
  NeedBase();
  harness_->set_secret("BUILD_TOKEN", kSecret);
  RecordingPlugin recording(plugin_);
  fs::path context = Context("isolation", std::string("FROM ") + kBase + "\nARG TOKEN\nRUN test -n \"$TOKEN\"\n");
  nlohmann::json args = {{"context", context.string()}, {"created", "2026-11-22T10:15:02Z"},
                         {"build_args", {{"TOKEN", kSecret}}}};
  ASSERT_TRUE(harness_->run(recording, "build", args).ok());
  ASSERT_TRUE(harness_->run(recording, "build", args).ok());
  ASSERT_TRUE(harness_->run(recording, "tag", {{"image", "localhost/acme/shop:main"}, {"tags", {"t"}}}).ok());
  ASSERT_TRUE(harness_->run(recording, "push", {{"image", "localhost/acme/shop:main"},
                                                {"destination", "dir:" + (dir_.path() / "pushed").string()}})
                  .ok());
  ASSERT_GE(recording.specs.size(), 4u);
  bool secret_in_env = false;
  for (const ProcessSpec& spec : recording.specs) {
    std::string argv;
    for (const std::string& arg : spec.argv) argv += arg + " ";
    EXPECT_EQ(spec.isolation, Isolation::worker) << argv;
    EXPECT_EQ(argv.find(kSecret), std::string::npos) << argv;
    for (const auto& [name, value] : spec.env) secret_in_env = secret_in_env || (name == "TOKEN" && value == kSecret);
  }
  EXPECT_TRUE(secret_in_env) << "the secret build arg went nowhere";
}

}  // namespace
}  // namespace kiln::buildah
