// The job's credentials are for the superproject: a submodule on the same host (or any
// other) is fetched with them only when git.submodule_credentials names it. Real
// repositories behind `git http-backend` with basic auth; both transports.
#include <gtest/gtest.h>

#include "git_plugin.hpp"
#include "support/git_server.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"
#include "transport_name.hpp"

namespace kiln::git {
namespace {

using kiln::testing::GitServer;
using kiln::testing::GitWorkRepo;
using kiln::testing::ReadFile;
using kiln::testing::StepHarness;
using kiln::testing::TempDir;
using nlohmann::json;

constexpr char kToken[] = "tok-submodule-4e3d2c1b";

class SubmoduleCredentialsTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    server_ = std::make_unique<GitServer>(tmp_ / "srv");
    std::string error;
    ASSERT_TRUE(server_->StartHttp("ci", kToken, &error)) << error;
    // acme/private.git: another private repository of the same host, which the
    // superproject's .gitmodules pulls in by a relative URL.
    GitWorkRepo lib(tmp_ / "work-private", server_->CreateBareRepo("acme/private.git"));
    lib_commit_ = lib.Commit({{"secret.txt", "private content\n"}}, "private");
    lib.Push();
    GitWorkRepo shop(tmp_ / "work-shop", server_->CreateBareRepo("acme/shop.git"));
    shop.Commit({{"main.txt", "main\n"}}, "main");
    shop.Git("submodule add -q ../private.git vendor/private");
    super_commit_ = shop.Commit({{"main.txt", "main v2\n"}}, "with submodule");
    shop.Push();
    harness_ = std::make_unique<StepHarness>(tmp_ / "job");
    harness_->set_secret("forge", std::string("ci:") + kToken);
  }

  std::string HostKey() const { return "127.0.0.1:" + std::to_string(server_->http_port()); }
  // git.credentials gives the host's login to the superproject; `extra` adds keys.
  void Configure(json extra = json::object()) {
    json section = {{"transport", TransportName(GetParam())}, {"credentials", {{HostKey(), "forge"}}}};
    section.update(extra);
    ASSERT_EQ(plugin_.configure(section), "");
  }
  StepResult SyncWithSubmodules(json extra_args = json::object()) {
    json args = {{"url", server_->HttpUrl("acme/shop.git")}, {"commit", super_commit_}, {"submodules", true}};
    args.update(extra_args);
    return harness_->run(plugin_, "sync", args);
  }
  bool GotThePrivateFile() const {
    return std::filesystem::exists(harness_->workspace() / "src/vendor/private/secret.txt");
  }
  void ExpectRefused(const StepResult& result) {
    EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
    EXPECT_NE(result.message.find("submodule 'vendor/private'"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("login required"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("git.submodule_credentials"), std::string::npos) << result.message;
    EXPECT_FALSE(GotThePrivateFile());
  }

  TempDir tmp_{"kiln-git-submodule-credentials"};
  std::unique_ptr<GitServer> server_;
  std::unique_ptr<StepHarness> harness_;
  GitPlugin plugin_;
  std::string lib_commit_;
  std::string super_commit_;
};

TEST_P(SubmoduleCredentialsTest, ASubmoduleOnTheSameHostGetsNoCredentialsByDefault) {
  Configure();
  ExpectRefused(SyncWithSubmodules());
  // Nor the step's own `credentials`, which are for its `url`.
  ASSERT_EQ(plugin_.configure(json{{"transport", TransportName(GetParam())}}), "");
  ExpectRefused(SyncWithSubmodules({{"credentials", "forge"}}));
  // The superproject alone still syncs with them.
  StepResult alone = harness_->run(plugin_, "sync",
                                   {{"url", server_->HttpUrl("acme/shop.git")}, {"commit", super_commit_}, {"credentials", "forge"}});
  EXPECT_TRUE(alone.ok()) << alone.message;
}

TEST_P(SubmoduleCredentialsTest, ASubmoduleNamedByHostOrRepositoryGetsThem) {
  for (const json& allowed : {json::array({HostKey()}), json::array({"127.0.0.1"}),
                              json::array({server_->HttpUrl("acme/private.git")}),
                              json::array({server_->HttpUrl("acme/private")})}) {
    Configure({{"submodule_credentials", allowed}});
    StepResult result = SyncWithSubmodules();
    ASSERT_TRUE(result.ok()) << allowed << ": " << result.message << "\n" << harness_->log_text();
    EXPECT_EQ(ReadFile(harness_->workspace() / "src/vendor/private/secret.txt"), "private content\n");
    EXPECT_EQ(result.outputs["submodules"][0]["commit"], lib_commit_);
  }
  // The step's `credentials` go along too, when allowed.
  ASSERT_EQ(plugin_.configure(json{{"transport", TransportName(GetParam())},
                                   {"submodule_credentials", json::array({HostKey()})}}),
            "");
  StepResult with_step_secret = SyncWithSubmodules({{"credentials", "forge"}});
  EXPECT_TRUE(with_step_secret.ok()) << with_step_secret.message;
  // Naming another repository of the host is not naming this one.
  Configure({{"submodule_credentials", json::array({server_->HttpUrl("acme/other.git"), "git.example.com"})}});
  ExpectRefused(SyncWithSubmodules());
}

TEST_P(SubmoduleCredentialsTest, AMirrorFilledWithCredentialsIsNotHandedToASubmoduleWithout) {
  // A job allowed to read acme/private.git put its commit in the shared mirror; with
  // `fetch: missing` a sync would take it from there without asking the server.
  Configure({{"fetch", "missing"}});
  StepResult direct = harness_->run(plugin_, "sync",
                                    {{"url", server_->HttpUrl("acme/private.git")}, {"commit", lib_commit_}, {"dir", "lib"}});
  ASSERT_TRUE(direct.ok()) << direct.message;
  ExpectRefused(SyncWithSubmodules());
}

INSTANTIATE_TEST_SUITE_P(Transports, SubmoduleCredentialsTest, ::testing::Values(Transport::libgit2, Transport::cli),
                         [](const auto& param_info) { return TransportName(param_info.param); });

}  // namespace
}  // namespace kiln::git
