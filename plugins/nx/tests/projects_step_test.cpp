#include "projects_step.hpp"

#include <gtest/gtest.h>

#include "nx_workspace_fixture.hpp"

namespace kiln::nx {
namespace {

namespace fs = std::filesystem;
using kiln::testing::StepHarness;
using kiln::testing::TempDir;
using nlohmann::json;

class NxProjectsPlugin final : public Plugin {
 public:
  std::string_view name() const override { return "nx"; }
  std::string_view version() const override { return "test"; }
  std::vector<std::string> steps() const override { return {"projects"}; }
  StepResult run(std::string_view, const json& args, StepContext& ctx) override {
    return RunProjects(ctx, args, NxConfig{});
  }
};

TEST(NxProjects, EachProjectWithItsRootAndLanguage) {
  TempDir root("kiln-nx-projects");
  StepHarness harness(root.path());
  NxProjectsPlugin plugin;
  ASSERT_TRUE(testing::CopyFixture(harness.workspace() / "src"));
  // A relative dir is relative to the job's workspace.
  auto result = harness.run(plugin, "projects", {{"dir", "src"}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness.log_text();
  EXPECT_EQ(result.outputs["projects"], json::parse(R"([
    {"name": "api", "root": "apps/api", "language": "go"},
    {"name": "docs", "root": "apps/docs", "language": "python"},
    {"name": "shared", "root": "libs/shared", "language": "node"}])"));
}

TEST(NxProjects, NoNxJsonIsTerminal) {
  TempDir root("kiln-nx-projects");
  StepHarness harness(root.path());
  NxProjectsPlugin plugin;
  fs::create_directories(harness.workspace() / "plain");
  auto result = harness.run(plugin, "projects", {{"dir", "plain"}});
  ASSERT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("no nx.json in"), std::string::npos) << result.message;
  auto unknown = harness.run(plugin, "projects", {{"dir", "plain"}, {"targets", {"build"}}});
  EXPECT_NE(unknown.message.find("nx.projects: targets: unknown argument"), std::string::npos) << unknown.message;
}

// NX installs and builds in `dir`: it used to be taken wherever it pointed (issue 21).
TEST(NxProjects, ADirOutsideTheWorkspaceIsRefusedHoweverItIsNamed) {
  TempDir root("kiln-nx-projects");
  StepHarness harness(root.path());
  NxProjectsPlugin plugin;
  const fs::path outside = root.path() / "outside";
  kiln::testing::WriteFile(outside / "nx.json", "{}");
  fs::create_directory_symlink(outside, harness.workspace() / "linked");
  fs::create_directories(harness.workspace() / "src");
  fs::create_directory_symlink("../../outside", harness.workspace() / "src" / "up");
  const std::string cases[][2] = {
      {"../outside", "nx.projects: dir: '../outside' leaves the workspace"},
      {outside.string(), "nx.projects: dir: '" + outside.string() + "' is outside the workspace"},
      {"linked", "nx.projects: dir: 'linked': 'linked' is a symlink that points outside the workspace"},
      {"src/up", "nx.projects: dir: 'src/up': 'src/up' is a symlink that points outside the workspace"},
  };
  for (const auto& [dir, expected] : cases) {
    auto result = harness.run(plugin, "projects", {{"dir", dir}});
    EXPECT_EQ(result.status, StepResult::Status::terminal) << dir;
    EXPECT_EQ(result.message.rfind(expected, 0), 0u) << dir << " gave: " << result.message;
  }
}

}  // namespace
}  // namespace kiln::nx
