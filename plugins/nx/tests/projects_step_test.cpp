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

}  // namespace
}  // namespace kiln::nx
