// git.sync on real repositories made with the git CLI, served by `git daemon` and by
// `git http-backend` with basic auth; every test runs with both transports.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "git_plugin.hpp"
#include "process/process_runner.hpp"
#include "support/git_server.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"
#include "transport_name.hpp"

namespace kiln::git {
namespace {

using kiln::testing::GitServer;
using kiln::testing::GitWorkRepo;
using kiln::testing::ReadFile;
using kiln::testing::Shell;
using kiln::testing::StepHarness;
using kiln::testing::TempDir;
using nlohmann::json;

constexpr char kHttpToken[] = "tok-9f8e7d6c5b4a-never-printed";
constexpr char kUnknownCommit[] = "0123456789abcdef0123456789abcdef01234567";

// Every file under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::filesystem::path& dir, const std::string& needle) {
  std::vector<std::string> hits;
  if (!std::filesystem::exists(dir)) return hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (content.str().find(needle) != std::string::npos) hits.push_back(entry.path().string());
  }
  return hits;
}

class GitSyncTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    server_ = std::make_unique<GitServer>(tmp_ / "srv");
    std::string error;
    ASSERT_TRUE(server_->StartDaemon(&error)) << error;
    bare_ = server_->CreateBareRepo("acme/shop.git");
    work_ = std::make_unique<GitWorkRepo>(tmp_ / "work-shop", bare_);
    harness_ = std::make_unique<StepHarness>(tmp_ / "job");
    ASSERT_EQ(plugin_.configure(json{{"transport", TransportName(GetParam())}}), "");
  }

  StepResult Sync(json args) { return harness_->run(plugin_, "sync", args); }
  std::string Url() const { return server_->DaemonUrl("acme/shop.git"); }
  std::string InWorkspace(const std::string& git_args, const std::string& dir = "src") {
    std::string output;
    Shell("git -C '" + (harness_->workspace() / dir).string() + "' " + git_args, &output);
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return output;
  }
  std::filesystem::path Mirror() const {
    return harness_->code_cache_dir() / ("127.0.0.1_" + std::to_string(server_->daemon_port())) / "acme" /
           "shop.git";
  }

  TempDir tmp_{"kiln-git-sync"};
  std::unique_ptr<GitServer> server_;
  std::filesystem::path bare_;
  std::unique_ptr<GitWorkRepo> work_;
  std::unique_ptr<StepHarness> harness_;
  GitPlugin plugin_;
};

TEST_P(GitSyncTest, ClonesFirstThenFetchesOnlyWhatIsNew) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 30; ++i) files["src/file" + std::to_string(i) + ".txt"] = "content " + std::to_string(i) + "\n";
  files["README.md"] = "first\n";
  const std::string first = work_->Commit(files, "first");
  work_->Push();

  StepResult cloned = Sync({{"url", Url()}, {"commit", first}});
  ASSERT_TRUE(cloned.ok()) << cloned.message << "\n" << harness_->log_text();
  EXPECT_EQ(cloned.outputs["source"], "network");
  EXPECT_EQ(cloned.outputs["commit"], first);
  EXPECT_EQ(cloned.outputs["path"], (harness_->workspace() / "src").string());
  const auto cold_objects = cloned.outputs["fetched_objects"].get<std::size_t>();
  EXPECT_GE(cold_objects, 30u);
  EXPECT_TRUE(std::filesystem::is_directory(Mirror() / "objects")) << Mirror();
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/README.md"), "first\n");
  EXPECT_EQ(InWorkspace("rev-parse HEAD"), first);
  EXPECT_EQ(InWorkspace("status --porcelain"), "");  // index and worktree agree with the commit

  const std::string second = work_->Commit({{"README.md", "second\n"}}, "second");
  work_->Push();
  StepResult fetched = Sync({{"url", Url()}, {"commit", second}});
  ASSERT_TRUE(fetched.ok()) << fetched.message;
  EXPECT_EQ(fetched.outputs["source"], "network");
  const auto warm_objects = fetched.outputs["fetched_objects"].get<std::size_t>();
  EXPECT_GE(warm_objects, 1u);
  EXPECT_LE(warm_objects, 3u);  // commit, tree, blob: nothing of the first commit again
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/README.md"), "second\n");
  EXPECT_EQ(InWorkspace("rev-parse HEAD"), second);
  EXPECT_FALSE(harness_->progress().empty());
}

TEST_P(GitSyncTest, PinsTheCommitEvenWhenTheBranchHasMoved) {
  const std::string old_commit = work_->Commit({{"VERSION", "1\n"}}, "v1");
  work_->Commit({{"VERSION", "2\n"}, {"new.txt", "only in v2\n"}}, "v2");
  const std::string head = work_->Commit({{"VERSION", "3\n"}}, "v3");
  work_->Push();

  StepResult result = Sync({{"url", Url()}, {"commit", old_commit}, {"ref", "main"}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["branch"], "main");
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/VERSION"), "1\n");
  EXPECT_FALSE(std::filesystem::exists(harness_->workspace() / "src/new.txt"));
  EXPECT_EQ(InWorkspace("rev-parse HEAD"), old_commit);
  EXPECT_EQ(InWorkspace("symbolic-ref --short HEAD"), "main");
  EXPECT_EQ(InWorkspace("status --porcelain"), "");
  // The rest of the history is readable from the workspace (through the mirror).
  EXPECT_EQ(InWorkspace("cat-file -t " + head), "commit");
  EXPECT_EQ(InWorkspace("remote get-url origin"), Url());
}

TEST_P(GitSyncTest, FetchesACommitOnNoBranchThroughItsRefOrById) {
  const std::string base = work_->Commit({{"a.txt", "a\n"}}, "base");
  work_->Push();
  const std::string pull = work_->Commit({{"a.txt", "pull 7\n"}}, "pull 7");
  work_->Push("refs/pull/7/head");  // refs/pull/7/head: reachable, but from no branch or tag
  ASSERT_TRUE(Sync({{"url", Url()}, {"commit", base}}).ok());

  StepResult by_ref = Sync({{"url", Url()}, {"commit", pull}, {"ref", "refs/pull/7/head"}});
  ASSERT_TRUE(by_ref.ok()) << by_ref.message << "\n" << harness_->log_text();
  EXPECT_FALSE(by_ref.outputs.contains("branch"));
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/a.txt"), "pull 7\n");

  // Without the ref, the commit is asked for by id (servers that allow it, as GitHub does).
  Shell("git -C '" + bare_.string() + "' config uploadpack.allowReachableSHA1InWant true");
  work_->Git("checkout -q " + base);
  const std::string hidden = work_->Commit({{"a.txt", "pull 8\n"}}, "pull 8");
  work_->Push("refs/pull/8/head");
  StepResult by_id = Sync({{"url", Url()}, {"commit", hidden}});
  ASSERT_TRUE(by_id.ok()) << by_id.message << "\n" << harness_->log_text();
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/a.txt"), "pull 8\n");
}

TEST_P(GitSyncTest, FallsBackToTheMirrorWhenTheServerIsDown) {
  const std::string synced = work_->Commit({{"a.txt", "a\n"}}, "synced");
  work_->Push();
  ASSERT_TRUE(Sync({{"url", Url()}, {"commit", synced}}).ok());
  const std::string never_synced = work_->Commit({{"a.txt", "b\n"}}, "not synced");
  work_->Push();
  const std::string url = Url();
  server_->StopDaemon();

  StepResult cached = Sync({{"url", url}, {"commit", synced}});
  ASSERT_TRUE(cached.ok()) << cached.message;
  EXPECT_EQ(cached.outputs["source"], "cache");
  EXPECT_EQ(cached.outputs["fetched_objects"], 0);
  EXPECT_NE(harness_->log_text().find("warning: fetching " + url + " failed"), std::string::npos)
      << harness_->log_text();
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/a.txt"), "a\n");

  StepResult missing = Sync({{"url", url}, {"commit", never_synced}});
  EXPECT_EQ(missing.status, StepResult::Status::retryable) << missing.message;
  EXPECT_NE(missing.message.find("fetching " + url + " failed"), std::string::npos) << missing.message;
}

TEST_P(GitSyncTest, FetchPolicyMissingSkipsTheNetworkForAKnownCommit) {
  ASSERT_EQ(plugin_.configure(json{{"transport", TransportName(GetParam())}, {"fetch", "missing"}}), "");
  const std::string commit = work_->Commit({{"a.txt", "a\n"}}, "a");
  work_->Push();
  StepResult first = Sync({{"url", Url()}, {"commit", commit}});
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(first.outputs["source"], "network");
  StepResult second = Sync({{"url", Url()}, {"commit", commit}});
  ASSERT_TRUE(second.ok()) << second.message;
  EXPECT_EQ(second.outputs["source"], "cache");
  EXPECT_EQ(harness_->log_text().find("warning:"), std::string::npos);
}

TEST_P(GitSyncTest, SeveralJobsSyncOneRepositoryAtOnce) {
  std::vector<std::string> commits;
  for (int i = 0; i < 3; ++i) {
    commits.push_back(work_->Commit({{"n.txt", std::to_string(i) + "\n"}}, "commit " + std::to_string(i)));
  }
  work_->Push();
  // Six jobs, each with its own workspace, sharing one code cache as jobs of a worker do.
  const auto shared_cache = tmp_ / "shared-code-cache";
  std::filesystem::create_directories(shared_cache);
  constexpr int kJobs = 6;
  std::vector<std::unique_ptr<StepHarness>> jobs;
  for (int i = 0; i < kJobs; ++i) {
    const auto root = tmp_ / ("job" + std::to_string(i));
    std::filesystem::create_directories(root / "cache");
    std::filesystem::create_directory_symlink(shared_cache, root / "cache" / "code");
    jobs.push_back(std::make_unique<StepHarness>(root));
  }
  std::vector<StepResult> results(kJobs);
  std::vector<std::thread> threads;
  for (int i = 0; i < kJobs; ++i) {
    threads.emplace_back([&, i] {
      results[i] = jobs[i]->run(plugin_, "sync", {{"url", Url()}, {"commit", commits[i % commits.size()]}});
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(results[i].ok()) << "job " << i << ": " << results[i].message << "\n" << jobs[i]->log_text();
    EXPECT_EQ(ReadFile(jobs[i]->workspace() / "src/n.txt"), std::to_string(i % commits.size()) + "\n");
  }
  const auto mirror = shared_cache / ("127.0.0.1_" + std::to_string(server_->daemon_port())) / "acme/shop.git";
  std::string fsck;
  EXPECT_EQ(Shell("git -C '" + mirror.string() + "' fsck --no-progress", &fsck), 0) << fsck;
}

TEST_P(GitSyncTest, ChecksOutSubmodulesWhenAsked) {
  const auto lib_bare = server_->CreateBareRepo("acme/lib.git");
  GitWorkRepo lib(tmp_ / "work-lib", lib_bare);
  const std::string lib_commit = lib.Commit({{"lib.txt", "library v1\n"}}, "lib v1");
  lib.Push();
  lib.Commit({{"lib.txt", "library v2\n"}}, "lib v2");  // the superproject still pins v1
  lib.Push();
  work_->Git("submodule add -q ../lib.git vendor/lib");
  work_->Git("-C vendor/lib checkout -q " + lib_commit);
  const std::string super = work_->Commit({{"main.txt", "main\n"}}, "with submodule");
  work_->Push();

  StepResult without = Sync({{"url", Url()}, {"commit", super}});
  ASSERT_TRUE(without.ok()) << without.message;
  EXPECT_FALSE(std::filesystem::exists(harness_->workspace() / "src/vendor/lib/lib.txt"));

  StepResult with = Sync({{"url", Url()}, {"commit", super}, {"submodules", true}});
  ASSERT_TRUE(with.ok()) << with.message << "\n" << harness_->log_text();
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/vendor/lib/lib.txt"), "library v1\n");
  ASSERT_EQ(with.outputs["submodules"].size(), 1u) << with.outputs;
  EXPECT_EQ(with.outputs["submodules"][0]["path"], "vendor/lib");
  EXPECT_EQ(with.outputs["submodules"][0]["commit"], lib_commit);
  EXPECT_EQ(with.outputs["submodules"][0]["url"], server_->DaemonUrl("acme/lib.git"));
  EXPECT_EQ(InWorkspace("rev-parse HEAD", "src/vendor/lib"), lib_commit);
  EXPECT_EQ(InWorkspace("status --porcelain"), "");
}

TEST_P(GitSyncTest, BadInputsAreTerminalAndSayWhichInput) {
  const std::string commit = work_->Commit({{"a.txt", "a\n"}}, "a");
  work_->Push();
  struct Case {
    json args;
    std::string expected;
  };
  const Case cases[] = {
      {{{"url", "not a url"}, {"commit", commit}}, "malformed URL"},
      {{{"url", "ftp://127.0.0.1/x.git"}, {"commit", commit}}, "unsupported scheme 'ftp'"},
      {{{"url", Url()}, {"commit", "main"}}, "argument 'commit' must be a full commit id"},
      {{{"url", Url()}}, "argument 'commit' is required"},
      {{{"url", Url()}, {"commit", commit}, {"dir", "../escape"}}, "argument 'dir'"},
      {{{"url", Url()}, {"commit", commit}, {"ref", "bad..ref"}}, "argument 'ref' is not a valid ref name"},
      {{{"url", Url()}, {"commit", commit}, {"depth", 1}}, "unknown argument 'depth'"},
      {{{"url", Url()}, {"commit", commit}, {"submodules", "yes"}}, "argument 'submodules' must be true or false"},
      {{{"url", Url()}, {"commit", kUnknownCommit}}, "commit not found"},
      {{{"url", server_->DaemonUrl("acme/nothing.git")}, {"commit", commit}}, "repository not found"},
      {{{"url", Url()}, {"commit", commit}, {"credentials", "no_such_secret"}}, "secret 'no_such_secret'"},
  };
  for (const auto& c : cases) {
    StepResult result = Sync(c.args);
    EXPECT_EQ(result.status, StepResult::Status::terminal) << c.args << ": " << result.message;
    EXPECT_NE(result.message.find(c.expected), std::string::npos) << c.args << " gave: " << result.message;
  }
}

// The working copy is emptied and checked out at `dir`: through a link an earlier step
// left in the workspace, that was a directory outside it (issue 21).
TEST_P(GitSyncTest, ADirThroughASymlinkOutOfTheWorkspaceIsRefused) {
  const std::string commit = work_->Commit({{"a.txt", "a\n"}}, "a");
  work_->Push();
  const auto outside = tmp_.path() / "outside";
  kiln::testing::WriteFile(outside / "src" / "keep", "keep\n");
  std::filesystem::create_directory_symlink(outside, harness_->workspace() / "linked");
  StepResult result = Sync({{"url", Url()}, {"commit", commit}, {"dir", "linked/src"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("argument 'dir' must stay inside the job's workspace: 'linked/src': 'linked' is a "
                                "symlink that points outside the workspace"),
            std::string::npos)
      << result.message;
  EXPECT_EQ(ReadFile(outside / "src" / "keep"), "keep\n");
  EXPECT_FALSE(std::filesystem::exists(outside / "src" / "a.txt"));
  // A link that stays inside is followed.
  std::filesystem::create_directories(harness_->workspace() / "real");
  std::filesystem::create_directory_symlink("real", harness_->workspace() / "alias");
  StepResult inside = Sync({{"url", Url()}, {"commit", commit}, {"dir", "alias/src"}});
  ASSERT_TRUE(inside.ok()) << inside.message;
  EXPECT_EQ(ReadFile(harness_->workspace() / "real" / "src" / "a.txt"), "a\n");
}

// A StepContext that keeps everything the plugin says exactly as it said it (nothing is
// redacted), so a test can prove the plugin never says a credential at all.
class RawRecordingContext final : public StepContext {
 public:
  RawRecordingContext(std::filesystem::path root, std::map<std::string, std::string> secrets)
      : root_(std::move(root)), secrets_(std::move(secrets)) {
    std::filesystem::create_directories(root_ / "work");
    std::filesystem::create_directories(root_ / "cache/code");
  }
  const json& job() const override { return job_; }
  const json& config() const override { return config_; }
  std::string workspace() const override { return (root_ / "work").string(); }
  std::string code_cache_dir() const override { return (root_ / "cache/code").string(); }
  std::string build_cache_dir() const override { return (root_ / "cache/build").string(); }
  void log(std::string_view line) override { said_ += std::string(line) + "\n"; }
  void warn(std::string_view line) override { said_ += "warning: " + std::string(line) + "\n"; }
  void progress(double, std::string_view message) override { said_ += std::string(message) + "\n"; }
  bool cancelled() const override { return false; }
  ProcessResult run(const ProcessSpec& spec) override {
    ProcessRunOptions options;
    options.default_cwd = workspace();
    options.base_env = ScrubbedEnvironment(workspace());
    options.on_line = [this](std::string_view line) { said_ += std::string(line) + "\n"; };
    ProcessResult result = RunProcess(spec, options);
    said_ += result.output_tail;
    return result;
  }
  std::optional<std::string> secret(std::string_view name) override {
    auto it = secrets_.find(std::string(name));
    if (it == secrets_.end()) return std::nullopt;
    return it->second;
  }
  void add_redaction(std::string_view value) override { redactions_.emplace_back(value); }
  bool is_secret(std::string_view value) const override {
    for (const auto& [name, secret] : secrets_) {
      if (value.find(secret) != std::string_view::npos) return true;
    }
    return false;
  }

  const std::string& said() const { return said_; }
  const std::vector<std::string>& redactions() const { return redactions_; }

 private:
  std::filesystem::path root_;
  std::map<std::string, std::string> secrets_;
  json job_ = json::object();
  json config_ = nullptr;
  std::string said_;
  std::vector<std::string> redactions_;
};

class GitHttpTest : public GitSyncTest {
 protected:
  void SetUp() override {
    GitSyncTest::SetUp();
    std::string error;
    ASSERT_TRUE(server_->StartHttp("ci", kHttpToken, &error)) << error;
    commit_ = work_->Commit({{"a.txt", "over http\n"}}, "http");
    work_->Push();
  }
  std::string HttpUrl() const { return server_->HttpUrl("acme/shop.git"); }
  std::string commit_;
};

TEST_P(GitHttpTest, ClonesWithBasicAuthFromASecretAndNeverShowsTheToken) {
  harness_->set_secret("forge", std::string("ci:") + kHttpToken);
  StepResult result = Sync({{"url", HttpUrl()}, {"commit", commit_}, {"credentials", "forge"}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_->log_text();
  EXPECT_EQ(ReadFile(harness_->workspace() / "src/a.txt"), "over http\n");
  EXPECT_EQ(harness_->log_text().find(kHttpToken), std::string::npos);
  EXPECT_EQ(result.outputs.dump().find(kHttpToken), std::string::npos);
  EXPECT_EQ(result.message.find(kHttpToken), std::string::npos);
  EXPECT_EQ(FilesContaining(harness_->code_cache_dir(), kHttpToken), std::vector<std::string>{});
  EXPECT_EQ(FilesContaining(harness_->workspace(), kHttpToken), std::vector<std::string>{});
  const auto mirror = harness_->code_cache_dir() / ("127.0.0.1_" + std::to_string(server_->http_port())) / "acme/shop.git";
  const std::string config = ReadFile(mirror / "config");
  EXPECT_EQ(config.find("[remote"), std::string::npos) << config;  // the remote is never saved
}

TEST_P(GitHttpTest, TakesCredentialsFromTheConfigByHost) {
  harness_->set_secret("forge_token", kHttpToken);  // a bare token: the user comes from the URL
  ASSERT_EQ(plugin_.configure(json{{"transport", TransportName(GetParam())},
                                   {"credentials", {{"127.0.0.1:" + std::to_string(server_->http_port()), "forge_token"}}}}),
            "");
  const std::string url = "http://ci@127.0.0.1:" + std::to_string(server_->http_port()) + "/acme/shop.git";
  StepResult result = Sync({{"url", url}, {"commit", commit_}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_->log_text();
}

TEST_P(GitHttpTest, TheTokenNeverLeavesThePluginEvenUnredacted) {
  RawRecordingContext ctx(tmp_ / "raw", {{"forge", std::string("ci:") + kHttpToken}});
  StepResult ok = plugin_.run("sync", {{"url", HttpUrl()}, {"commit", commit_}, {"credentials", "forge"}}, ctx);
  ASSERT_TRUE(ok.ok()) << ok.message;
  // A refused login and a token in the URL take the error paths.
  server_->StopHttp();
  std::string error;
  ASSERT_TRUE(server_->StartHttp("ci", "another-password", &error)) << error;
  StepResult refused = plugin_.run("sync", {{"url", HttpUrl()}, {"commit", kUnknownCommit}, {"credentials", "forge"}}, ctx);
  EXPECT_EQ(refused.status, StepResult::Status::terminal);
  const std::string in_url = "http://ci:" + std::string(kHttpToken) + "@127.0.0.1:" + std::to_string(server_->http_port()) +
                             "/acme/shop.git";
  StepResult refused_url = plugin_.run("sync", {{"url", in_url}, {"commit", kUnknownCommit}}, ctx);
  EXPECT_EQ(refused_url.status, StepResult::Status::terminal);
  for (const auto* result : {&ok, &refused, &refused_url}) {
    EXPECT_EQ(result->message.find(kHttpToken), std::string::npos) << result->message;
    EXPECT_EQ(result->outputs.dump().find(kHttpToken), std::string::npos);
  }
  EXPECT_EQ(ctx.said().find(kHttpToken), std::string::npos) << ctx.said();
  EXPECT_EQ(FilesContaining(tmp_ / "raw", kHttpToken), std::vector<std::string>{});
  // And the plugin registered it for redaction, in case a library or server echoes it.
  EXPECT_NE(std::find(ctx.redactions().begin(), ctx.redactions().end(), kHttpToken), ctx.redactions().end());
}

TEST_P(GitHttpTest, ARefusedLoginIsTerminalAndIsTriedOnce) {
  harness_->set_secret("forge", "ci:wrong-password");
  StepResult result = Sync({{"url", HttpUrl()}, {"commit", commit_}, {"credentials", "forge"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("login refused"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("secret 'forge'"), std::string::npos) << result.message;
  // One anonymous request and one with the login; a looping client would make many more.
  EXPECT_LE(server_->http_refused(), 3) << server_->http_refused();

  StepResult anonymous = Sync({{"url", HttpUrl()}, {"commit", commit_}});
  EXPECT_EQ(anonymous.status, StepResult::Status::terminal) << anonymous.message;
  EXPECT_NE(anonymous.message.find("login required"), std::string::npos) << anonymous.message;
}

INSTANTIATE_TEST_SUITE_P(Transports, GitSyncTest, ::testing::Values(Transport::libgit2, Transport::cli),
                         [](const auto& param_info) { return TransportName(param_info.param); });
INSTANTIATE_TEST_SUITE_P(Transports, GitHttpTest, ::testing::Values(Transport::libgit2, Transport::cli),
                         [](const auto& param_info) { return TransportName(param_info.param); });

}  // namespace
}  // namespace kiln::git
