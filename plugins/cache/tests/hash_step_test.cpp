#include <gtest/gtest.h>

#include "cache_plugin_fixture.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::WriteFile;

TEST_F(CachePluginTest, HashIsStableAndFollowsContentAndNames) {
  WriteFile(harness.workspace() / "package-lock.json", "{\"lockfileVersion\": 3}");
  WriteFile(harness.workspace() / "go.sum", "x v1.0.0 h1:abc=\n");
  const StepResult first = Run("hash", {{"files", {"package-lock.json", "go.sum"}}});
  ASSERT_TRUE(first.ok()) << first.message;
  const std::string hash = first.outputs["hash"];
  EXPECT_EQ(hash.size(), 64u);
  // Order of the arguments does not matter; the files are sorted.
  EXPECT_EQ(Run("hash", {{"files", {"go.sum", "package-lock.json"}}}).outputs["hash"], hash);
  EXPECT_EQ(first.outputs["files"], nlohmann::json::array({"go.sum", "package-lock.json"}));

  WriteFile(harness.workspace() / "go.sum", "x v1.0.1 h1:abd=\n");
  EXPECT_NE(Run("hash", {{"files", {"package-lock.json", "go.sum"}}}).outputs["hash"], hash);
}

TEST_F(CachePluginTest, HashOfOneFileIsNotTheHashOfItsBytesAlone) {
  // Path and length are part of the hash: moving content between files changes it.
  WriteFile(harness.workspace() / "a", "xy");
  WriteFile(harness.workspace() / "b", "");
  const std::string one = Run("hash", {{"files", {"a", "b"}}}).outputs["hash"];
  WriteFile(harness.workspace() / "a", "x");
  WriteFile(harness.workspace() / "b", "y");
  EXPECT_NE(Run("hash", {{"files", {"a", "b"}}}).outputs["hash"], one);
}

TEST_F(CachePluginTest, HashTakesWildcardsInTheLastComponent) {
  WriteFile(harness.workspace() / "app" / "package.json", "{}");
  WriteFile(harness.workspace() / "app" / "package-lock.json", "{}");
  WriteFile(harness.workspace() / "app" / "README", "no");
  const StepResult result = Run("hash", {{"files", "app/package*.json"}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["files"], nlohmann::json::array({"app/package-lock.json", "app/package.json"}));
  EXPECT_EQ(Run("hash", {{"files", "*/package.json"}}).status, StepResult::Status::terminal);
}

TEST_F(CachePluginTest, HashOfNothingOrOutsideIsTerminal) {
  const StepResult none = Run("hash", {{"files", {"missing.lock"}}});
  EXPECT_EQ(none.status, StepResult::Status::terminal);
  EXPECT_NE(none.message.find("missing.lock"), std::string::npos);
  EXPECT_EQ(Run("hash", {{"files", "../../etc/passwd"}}).status, StepResult::Status::terminal);
  EXPECT_EQ(Run("hash", {{"files", "/etc/passwd"}}).status, StepResult::Status::terminal);
  EXPECT_EQ(Run("hash", nlohmann::json::object()).status, StepResult::Status::terminal);
  EXPECT_EQ(Run("hash", {{"files", "x"}, {"bogus", 1}}).status, StepResult::Status::terminal);
}

}  // namespace
}  // namespace kiln::cache
