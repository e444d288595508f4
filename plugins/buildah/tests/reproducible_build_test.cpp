// One commit, one image digest: the image is dated with the commit's time (the
// SOURCE_DATE_EPOCH convention), so two workers with empty stores build the same image.
#include <thread>

#include "buildah_fixture.hpp"
#include "commit_time.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::Shell;

class ReproducibleBuildTest : public BuildahStepTest {
 protected:
  /// A git working copy at `dir` with one commit dated `epoch`; returns the commit id.
  static std::string CommitRepository(const fs::path& dir, long epoch) {
    kiln::testing::WriteFile(dir / "Dockerfile", "FROM scratch\nCOPY a /a\nCOPY lib /lib\n");
    kiln::testing::WriteFile(dir / "a", "payload\n");
    // Each worker's working copy has a .git of its own (index, config, alternates): the
    // image, and so the build key it carries, must not depend on it.
    kiln::testing::WriteFile(dir / ".dockerignore", ".git\n");
    kiln::testing::WriteFile(dir / "lib" / "x.txt", "library\n");
    std::string date = "@" + std::to_string(epoch) + " +0000";
    std::string output;
    EXPECT_EQ(Shell("cd '" + dir.string() + "' && git init -q -b main . && git add -A && GIT_AUTHOR_DATE='" + date +
                        "' GIT_COMMITTER_DATE='" + date +
                        "' git -c user.name=t -c user.email=t@example.com commit -qm one && git rev-parse HEAD",
                    &output),
              0)
        << output;
    return output.substr(0, 40);
  }
};

TEST_F(ReproducibleBuildTest, OneCommitBuiltInTwoFreshStoresGivesOneDigest) {
  const long epoch = 1764000000;  // 2025-11-24T16:00:00Z
  fs::path repo = harness_->workspace() / "src";
  std::string commit = CommitRepository(repo, epoch);
  harness_->job["commit"] = commit;
  StepResult first = Run("build", {{"context", repo.string()}});
  ASSERT_TRUE(first.ok()) << first.message;

  // A second worker: its own store, its own working copy of the same commit.
  kiln::testing::BuildahStore other_store(dir_.path() / "store-b");
  kiln::testing::StepHarness other(dir_.path() / "job-b");
  other.plugin_config = other_store.plugin_config();
  other.job["commit"] = commit;
  fs::path clone = other.workspace() / "src";
  ASSERT_EQ(Shell("git clone -q '" + repo.string() + "' '" + clone.string() + "'"), 0);
  BuildahPlugin other_plugin;
  ASSERT_EQ(other_plugin.configure(other_store.plugin_config()), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // another second on the clock
  StepResult second = other.run(other_plugin, "build", {{"context", clone.string()}});
  ASSERT_TRUE(second.ok()) << second.message;

  EXPECT_EQ(first.outputs.at("digest"), second.outputs.at("digest"));
  EXPECT_EQ(first.outputs.at("image_id"), second.outputs.at("image_id"));
  std::string created = Buildah("inspect --type image --format '{{index .Docker.Config.Labels "
                                "\"org.opencontainers.image.created\"}} {{.Docker.Created.Unix}}' " +
                                first.outputs.at("image_id").get<std::string>());
  EXPECT_EQ(created.substr(0, created.find('\n')), "2025-11-24T16:00:00Z " + std::to_string(epoch));
}

TEST_F(ReproducibleBuildTest, WithoutAGitWorkingCopyTheBuildTimeIsUsedAndSaid) {
  fs::path context = Context("plain", "FROM scratch\nCOPY a /a\n", {{"a", "x"}});
  StepResult built = Run("build", {{"context", context.string()}});
  ASSERT_TRUE(built.ok()) << built.message;
  EXPECT_NE(harness_->log_text().find("dating the image with the build's time"), std::string::npos)
      << harness_->log_text();
}

TEST(EnclosingRepository, StopsAtTheWorkspace) {
  kiln::testing::TempDir dir("kiln-commit-time");
  fs::create_directories(dir.path() / "ws" / "src" / ".git");
  fs::create_directories(dir.path() / "ws" / "src" / "app");
  fs::create_directories(dir.path() / ".git");  // above the workspace: never used
  fs::create_directories(dir.path() / "ws" / "other");
  EXPECT_EQ(EnclosingRepository(dir.path() / "ws" / "src" / "app", dir.path() / "ws"),
            fs::canonical(dir.path() / "ws" / "src"));
  EXPECT_EQ(EnclosingRepository(dir.path() / "ws" / "other", dir.path() / "ws"), fs::path());
}

}  // namespace
}  // namespace kiln::buildah
