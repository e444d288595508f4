// git.read_file on a real repository served by `git daemon`.
#include <gtest/gtest.h>

#include "git_plugin.hpp"
#include "support/git_server.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"

namespace kiln::git {
namespace {

using kiln::testing::GitServer;
using kiln::testing::GitWorkRepo;
using kiln::testing::StepHarness;
using kiln::testing::TempDir;
using nlohmann::json;

class GitReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<GitServer>(tmp_ / "srv");
    std::string error;
    ASSERT_TRUE(server_->StartDaemon(&error)) << error;
    GitWorkRepo work(tmp_ / "work", server_->CreateBareRepo("acme/shop.git"));
    pinned_ = work.Commit({{".kiln/pipeline.lua", "kiln.log('v1')\n"}, {"bin.dat", std::string("\xff\xfe\x00", 3)}}, "v1");
    work.Commit({{".kiln/pipeline.lua", "kiln.log('v2')\n"}}, "v2");
    work.Push();
    url_ = server_->DaemonUrl("acme/shop.git");
  }
  StepResult Read(const std::string& path) {
    return harness_.run(plugin_, "read_file", {{"url", url_}, {"commit", pinned_}, {"path", path}});
  }

  TempDir tmp_{"kiln-git-read"};
  std::unique_ptr<GitServer> server_;
  StepHarness harness_{tmp_ / "job"};
  GitPlugin plugin_;
  std::string pinned_;
  std::string url_;
};

TEST_F(GitReadFileTest, ReadsAFileOfThePinnedCommit) {
  StepResult result = Read(".kiln/pipeline.lua");
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["exists"], true);
  EXPECT_EQ(result.outputs["content"], "kiln.log('v1')\n");
  EXPECT_EQ(result.outputs["source"], "network");
  // The workspace is not touched: the file comes from the mirror.
  EXPECT_TRUE(std::filesystem::is_empty(harness_.workspace()));
}

TEST_F(GitReadFileTest, AMissingFileIsNotAnError) {
  StepResult result = Read("no/such/file.lua");
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["exists"], false);
  EXPECT_FALSE(result.outputs.contains("content"));
}

TEST_F(GitReadFileTest, ReadsFromTheMirrorWithoutTheNetworkOnceItHasTheCommit) {
  ASSERT_TRUE(Read(".kiln/pipeline.lua").ok());
  server_->StopDaemon();
  StepResult result = Read(".kiln/pipeline.lua");
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["source"], "cache");
  EXPECT_EQ(result.outputs["content"], "kiln.log('v1')\n");
}

TEST_F(GitReadFileTest, RefusesDirectoriesBinariesAndBadPaths) {
  const std::pair<std::string, std::string> cases[] = {
      {".kiln", "is not a file"},
      {"bin.dat", "is not UTF-8 text"},
      {"../etc/passwd", "argument 'path'"},
      {"/etc/passwd", "argument 'path' must be a relative path"},
  };
  for (const auto& [path, expected] : cases) {
    StepResult result = Read(path);
    EXPECT_EQ(result.status, StepResult::Status::terminal) << path << ": " << result.message;
    EXPECT_NE(result.message.find(expected), std::string::npos) << path << " gave: " << result.message;
  }
}

}  // namespace
}  // namespace kiln::git
