#include <gtest/gtest.h>

#include "git_config.hpp"
#include "git_plugin.hpp"

namespace kiln::git {
namespace {

using nlohmann::json;

TEST(GitConfigTest, NullAndEmptyGiveDefaults) {
  std::string error;
  auto config = GitConfig::Parse(nullptr, &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->fetch, FetchPolicy::always);
  EXPECT_EQ(config->transport, Transport::libgit2);  // chosen from docs/benchmarks/git.md
  EXPECT_TRUE(config->credentials.empty());
  ASSERT_TRUE(GitConfig::Parse(json::object(), &error)) << error;
}

TEST(GitConfigTest, ReadsEveryKey) {
  std::string error;
  auto config = GitConfig::Parse(
      json{{"transport", "libgit2"}, {"fetch", "missing"}, {"credentials", {{"GitHub.com", "gh"}, {"git.corp:8443", "corp"}}}},
      &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->transport, Transport::libgit2);
  EXPECT_EQ(config->fetch, FetchPolicy::missing);
  EXPECT_EQ(config->credentials_for("github.com"), "gh");
  EXPECT_EQ(config->credentials_for("github.com:443"), "gh");  // host alone when no host:port entry
  EXPECT_EQ(config->credentials_for("git.corp:8443"), "corp");
  EXPECT_FALSE(config->credentials_for("git.corp"));
  EXPECT_FALSE(config->credentials_for("gitlab.com"));
}

struct BadCase {
  json section;
  std::string expected;  // a part of the error
};

TEST(GitConfigTest, ErrorsNameTheKey) {
  const BadCase cases[] = {
      {json{{"transport", "x"}}, "git.transport: must be 'libgit2' or 'cli', got 'x'"},
      {json{{"transport", 3}}, "git.transport: must be 'libgit2' or 'cli', got a number"},
      {json{{"fetch", "sometimes"}}, "git.fetch: must be 'always' or 'missing'"},
      {json{{"credentials", "gh"}}, "git.credentials: must be a mapping"},
      {json{{"credentials", {{"github.com", 1}}}}, "git.credentials.github.com: must be the name of a secret"},
      {json{{"credentials", {{"https://github.com", "gh"}}}}, "git.credentials.https://github.com: must be a host"},
      {json{{"depth", 1}}, "git.depth: unknown key"},
      {json::array(), "git: must be a mapping"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(GitConfig::Parse(c.section, &error)) << c.section;
    EXPECT_NE(error.find(c.expected), std::string::npos) << "got: " << error;
  }
}

TEST(GitConfigTest, PluginConfigureReportsErrorsAndKeepsGoodOnes) {
  GitPlugin plugin;
  EXPECT_NE(plugin.configure(json{{"transport", "svn"}}).find("git.transport"), std::string::npos);
  EXPECT_EQ(plugin.configure(json{{"transport", "libgit2"}}), "");
  EXPECT_EQ(plugin.config().transport, Transport::libgit2);
  EXPECT_EQ(plugin.configure(nullptr), "");
}

}  // namespace
}  // namespace kiln::git
