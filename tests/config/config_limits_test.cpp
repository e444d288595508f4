// Bounds of the config loader that config_fuzzer (tests/fuzz) showed were missing.
#include <string>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config_test_util.hpp"

namespace kiln {
namespace {

using testing::LoadYaml;
using testing::TempDir;

// Nine levels of ten aliases: 10^9 values once expanded, from ten lines of YAML.
std::string AliasBomb() {
  std::string yaml = "git:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 8; ++level) {
    std::string previous = "*a" + std::to_string(level - 1);
    yaml += "  a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) yaml += (i ? ", " : "") + previous;
    yaml += "]\n";
  }
  return yaml;
}

TEST(ConfigLimits, APluginSectionWhoseAliasesExpandWithoutBoundIsRefused) {
  // Found by config_fuzzer: converting the section to JSON expanded every alias at each use
  // and did not end (nor fit in memory); without the bound this test runs into ctest's timeout.
  TempDir dir;
  auto config = LoadYaml(dir, AliasBomb());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("git.a"), std::string::npos) << config.error();
  EXPECT_NE(config.error().find("more than 10000 values (YAML aliases count again at each use)"), std::string::npos)
      << config.error();
  EXPECT_NE(config.error().find("config.yaml line"), std::string::npos) << config.error();
}

TEST(ConfigLimits, AliasesThatStayWithinTheBoundStillWork) {
  TempDir dir;
  auto config = LoadYaml(dir, "git:\n  base: &base { depth: 1, tags: [a, b] }\n  mirror: *base\n");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->plugin_sections.at("git")["mirror"]["depth"], 1);
  EXPECT_EQ(config->plugin_sections.at("git")["mirror"]["tags"][1], "b");
}

TEST(ConfigLimits, APluginSectionNestedDeeperThan64LevelsIsRefused) {
  TempDir dir;
  auto config = LoadYaml(dir, "git:\n  deep: " + std::string(100, '[') + std::string(100, ']') + "\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("nested deeper than 64 levels"), std::string::npos) << config.error();
}

TEST(ConfigLimits, TextYamlCppWouldReadAsEndlessDocumentsIsRefused) {
  // Found by config_fuzzer: on this input yaml-cpp 0.7's LoadAll collected empty documents
  // until memory ran out; the loader now counts documents up to two.
  TempDir dir;
  auto config = LoadYaml(dir, "\"[a\", 1, false]");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("holds 2 YAML documents (or more); a config is one"), std::string::npos)
      << config.error();
}

}  // namespace
}  // namespace kiln
