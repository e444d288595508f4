// The reference page and the example config must keep up with the key table: a key added
// to config_schema.cpp without its documentation fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/config_schema.hpp"
#include "config_test_util.hpp"

namespace kiln {
namespace {

const std::filesystem::path kSourceDir = KILN_SOURCE_DIR;

TEST(ConfigDocs, TheReferenceNamesEveryKeyAndItsVariable) {
  const std::string page = testing::ReadFile(kSourceDir / "docs" / "configuration.md");
  for (const config_schema::CoreKey& key : config_schema::CoreKeys()) {
    EXPECT_NE(page.find("`" + std::string(key.key) + "`"), std::string::npos) << key.name() << " is not documented";
    const std::string variable = config_schema::EnvVarName(key.section, key.key);
    EXPECT_NE(page.find("`" + variable + "`"), std::string::npos) << variable << " is not documented";
  }
}

TEST(ConfigDocs, TheExampleConfigLoadsAndShowsEveryKey) {
  const std::filesystem::path example = kSourceDir / "examples" / "config.yaml";
  auto config = LoadConfig(example.string(), testing::MapEnv());
  ASSERT_TRUE(config.ok()) << config.error();
  const std::string text = testing::ReadFile(example);
  for (const config_schema::CoreKey& key : config_schema::CoreKeys()) {
    EXPECT_NE(text.find(" " + std::string(key.key) + ":"), std::string::npos) << key.name() << " is not in the example";
  }
}

}  // namespace
}  // namespace kiln
