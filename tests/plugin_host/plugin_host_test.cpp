// The plugin host on real shared libraries: the probe loads; every kind of bad file is
// reported by name with why, and the others still load; config sections go to plugins.
#include <filesystem>

#include <gtest/gtest.h>

#include "plugin_host/plugin_host.hpp"
#include "support/temp_dir.hpp"

namespace kiln {
namespace {

const std::string kGood = KILN_TEST_PLUGIN_DIR;
const std::string kBad = KILN_BAD_PLUGIN_DIR;

std::string ProblemFor(const PluginHost& host, const std::string& file_name) {
  for (const auto& problem : host.problems()) {
    if (std::filesystem::path(problem.file).filename() == file_name) return problem.reason;
  }
  return "(no problem recorded)";
}

TEST(PluginHost, LoadsTheProbeWithItsSteps) {
  PluginHost host;
  host.load_dirs({kGood});
  ASSERT_EQ(host.plugins().size(), 1u);
  const PluginInfo& info = host.plugins()[0];
  EXPECT_EQ(info.name, "probe");
  EXPECT_EQ(info.version, "1.0.0");
  EXPECT_NE(std::find(info.steps.begin(), info.steps.end(), "flaky"), info.steps.end());
  EXPECT_NE(host.find("probe"), nullptr);
  EXPECT_EQ(host.find("nope"), nullptr);
}

TEST(PluginHost, EveryBadFileIsReportedByNameAndTheGoodOneStillLoads) {
  PluginHost host;
  host.load_dirs({kBad, kGood});
  EXPECT_NE(host.find("probe"), nullptr);
  EXPECT_EQ(host.plugins().size(), 1u);
  EXPECT_NE(ProblemFor(host, "not_a_library.so").find("not a loadable library"), std::string::npos);
  EXPECT_NE(ProblemFor(host, "no_descriptor.so").find("not a kiln plugin"), std::string::npos);
  EXPECT_NE(ProblemFor(host, "other_abi.so").find("ABI version 3, this kiln loads version 2"), std::string::npos);
  EXPECT_NE(ProblemFor(host, "other_build.so").find("rebuild the plugin"), std::string::npos);
  EXPECT_NE(ProblemFor(host, "throws_on_load.so").find("missing licence file"), std::string::npos);
  EXPECT_EQ(host.problems().size(), 5u);
}

TEST(PluginHost, TheSameNameTwiceKeepsTheFirst) {
  PluginHost host;
  host.load_dirs({kGood, kGood});
  EXPECT_EQ(host.plugins().size(), 1u);
  ASSERT_EQ(host.problems().size(), 1u);
  EXPECT_NE(host.problems()[0].reason.find("already loaded"), std::string::npos);
}

TEST(PluginHost, MissingDirsAreSkippedQuietly) {
  PluginHost host;
  host.load_dirs({"/nonexistent/kiln/plugins"});
  EXPECT_TRUE(host.plugins().empty());
  EXPECT_TRUE(host.problems().empty());
}

TEST(PluginHost, ConfigSectionsGoToTheirPluginAndBadOnesAreNamed) {
  PluginHost host;
  host.load_dirs({kGood});
  EXPECT_TRUE(host.configure({{"probe", {{"greeting", "hi"}}}}).empty());
  EXPECT_EQ(host.config_of("probe")["greeting"], "hi");
  auto errors = host.configure({{"probe", {{"greting", "hi"}}}, {"buildah", {{"root", "/x"}}}});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("no plugin named 'buildah' is loaded"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("probe.greting: unknown key"), std::string::npos) << errors[1];
}

TEST(PluginHost, DefaultDirsAreBesideTheBinary) {
  auto dirs = PluginHost::DefaultDirs({"/extra"});
  ASSERT_GE(dirs.size(), 2u);
  EXPECT_NE(dirs[0].find("lib/kiln/plugins"), std::string::npos);
  EXPECT_EQ(dirs.back(), "/extra");
}

}  // namespace
}  // namespace kiln
