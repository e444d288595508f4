#include "nx_config.hpp"

#include <gtest/gtest.h>

#include "build_step.hpp"

namespace kiln::nx {
namespace {

using nlohmann::json;

std::string ErrorOf(const Parsed<NxConfig>& parsed) {
  auto* error = std::get_if<std::string>(&parsed);
  return error ? *error : "";
}

std::string ErrorOf(const Parsed<BuildArgs>& parsed) {
  auto* error = std::get_if<std::string>(&parsed);
  return error ? *error : "";
}

TEST(NxConfig, NoSectionGivesDefaults) {
  auto parsed = ParseConfig(nullptr);
  ASSERT_TRUE(std::holds_alternative<NxConfig>(parsed));
  EXPECT_EQ(std::get<NxConfig>(parsed).install, InstallMode::automatic);
  EXPECT_EQ(std::get<NxConfig>(parsed).parallel, 0);
}

TEST(NxConfig, ReadsInstallAndParallel) {
  auto parsed = ParseConfig(json{{"install", "ci"}, {"parallel", 4}});
  ASSERT_TRUE(std::holds_alternative<NxConfig>(parsed)) << ErrorOf(parsed);
  EXPECT_EQ(std::get<NxConfig>(parsed).install, InstallMode::ci);
  EXPECT_EQ(std::get<NxConfig>(parsed).parallel, 4);
}

TEST(NxConfig, ParallelFromAnEnvironmentOverrideString) {
  auto parsed = ParseConfig(json{{"parallel", "3"}});
  ASSERT_TRUE(std::holds_alternative<NxConfig>(parsed)) << ErrorOf(parsed);
  EXPECT_EQ(std::get<NxConfig>(parsed).parallel, 3);
}

TEST(NxConfig, ErrorsNameTheKey) {
  EXPECT_EQ(ErrorOf(ParseConfig(json{{"install", "sometimes"}})),
            "nx.install: must be 'auto', 'ci' or 'none', got 'sometimes'");
  EXPECT_NE(ErrorOf(ParseConfig(json{{"parallel", -1}})).find("nx.parallel:"), std::string::npos);
  EXPECT_NE(ErrorOf(ParseConfig(json{{"parallel", "lots"}})).find("nx.parallel:"), std::string::npos);
  EXPECT_NE(ErrorOf(ParseConfig(json{{"daemon", true}})).find("nx.daemon: unknown key"), std::string::npos);
  EXPECT_NE(ErrorOf(ParseConfig(json::array())).find("nx: must be a mapping"), std::string::npos);
}

TEST(NxBuildArgs, DefaultsComeFromTheConfig) {
  NxConfig config;
  config.install = InstallMode::none;
  config.parallel = 2;
  auto parsed = ParseBuildArgs(json{{"dir", "src"}}, config);
  ASSERT_TRUE(std::holds_alternative<BuildArgs>(parsed)) << ErrorOf(parsed);
  const auto& args = std::get<BuildArgs>(parsed);
  EXPECT_EQ(args.targets, std::vector<std::string>{"build"});
  EXPECT_EQ(args.install, InstallMode::none);
  EXPECT_EQ(args.parallel, 2);
}

TEST(NxBuildArgs, ReadsEveryArgument) {
  auto parsed = ParseBuildArgs(json{{"dir", "/w"},
                                    {"targets", {"build", "test"}},
                                    {"base", "abc123"},
                                    {"head", "def456"},
                                    {"projects", {"api"}},
                                    {"parallel", 3},
                                    {"install", "ci"},
                                    {"env", {{"FOO", "bar"}, {"N", 1}}}},
                               NxConfig{});
  ASSERT_TRUE(std::holds_alternative<BuildArgs>(parsed)) << ErrorOf(parsed);
  const auto& args = std::get<BuildArgs>(parsed);
  EXPECT_EQ(args.targets, (std::vector<std::string>{"build", "test"}));
  EXPECT_EQ(args.base, "abc123");
  EXPECT_EQ(args.head, "def456");
  EXPECT_EQ(args.projects, std::vector<std::string>{"api"});
  EXPECT_EQ(args.install, InstallMode::ci);
  EXPECT_EQ(args.env.at("FOO"), "bar");
  EXPECT_EQ(args.env.at("N"), "1");
}

TEST(NxBuildArgs, ErrorsNameTheArgument) {
  EXPECT_EQ(ErrorOf(ParseBuildArgs(json::object(), NxConfig{})),
            "nx.build: dir: required (the workspace directory, e.g. src.path)");
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"targets", json::array()}}, NxConfig{})).find("targets:"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"targets", {"--all"}}}, NxConfig{})).find("targets: '--all'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"projects", {"a,b"}}}, NxConfig{})).find("projects:"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"base", "--upload-pack=x"}}, NxConfig{})).find("base:"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"parallel", 0}}, NxConfig{})).find("parallel:"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"install", "always"}}, NxConfig{})).find("install:"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"env", {{"A", json::array()}}}}, NxConfig{})).find("env.A:"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseBuildArgs(json{{"dir", "x"}, {"colour", "red"}}, NxConfig{})).find("colour: unknown argument"),
            std::string::npos);
}

TEST(NxBuildArgs, NullBaseFromAScriptWithoutBeforeIsNoBase) {
  auto parsed = ParseBuildArgs(json{{"dir", "x"}, {"base", nullptr}, {"head", "abc"}}, NxConfig{});
  ASSERT_TRUE(std::holds_alternative<BuildArgs>(parsed)) << ErrorOf(parsed);
  EXPECT_TRUE(std::get<BuildArgs>(parsed).base.empty());
}

TEST(NxBuildCommand, RunManyOrAffected) {
  BuildArgs args;
  args.targets = {"build", "test"};
  args.projects = {"api", "shared"};
  args.parallel = 2;
  EXPECT_EQ(BuildCommand(args, false), (std::vector<std::string>{"run-many", "--targets=build,test",
                                                                 "--projects=api,shared", "--parallel=2",
                                                                 "--outputStyle=stream"}));
  args.projects.clear();
  args.parallel = 0;
  args.base = "aaa";
  args.head = "bbb";
  EXPECT_EQ(BuildCommand(args, true), (std::vector<std::string>{"affected", "--targets=build,test", "--base=aaa",
                                                                "--head=bbb", "--outputStyle=stream"}));
}

}  // namespace
}  // namespace kiln::nx
