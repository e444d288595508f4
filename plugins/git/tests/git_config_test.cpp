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

TEST(GitConfigTest, SubmoduleCredentialsNameHostsOrRepositories) {
  std::string error;
  auto config = GitConfig::Parse(
      json{{"submodule_credentials", {"Git.Corp", "github.com:8443", "https://github.com/acme/lib.git"}}}, &error);
  ASSERT_TRUE(config) << error;
  auto allows = [&](const std::string& text) {
    auto url = RepoUrl::Parse(text, &error);
    EXPECT_TRUE(url) << text << ": " << error;
    return url && config->submodule_credentials.Allows(*url);
  };
  EXPECT_TRUE(allows("https://git.corp/any/repo.git"));  // a host alone: any port, any path
  EXPECT_TRUE(allows("ssh://git@git.corp:2222/any/repo"));
  EXPECT_TRUE(allows("https://github.com:8443/x/y.git"));
  EXPECT_TRUE(allows("https://github.com/acme/lib.git"));
  EXPECT_TRUE(allows("https://github.com/acme/lib"));  // with or without .git
  EXPECT_TRUE(allows("git@github.com:acme/lib.git"));  // over any transport
  EXPECT_FALSE(allows("https://github.com/acme/shop.git"));
  EXPECT_FALSE(allows("https://github.com/acme/lib-private.git"));
  EXPECT_FALSE(allows("https://gitlab.com/acme/lib.git"));
  EXPECT_FALSE(allows("https://corp/x.git"));
  EXPECT_FALSE(GitConfig::Parse(nullptr, &error)->submodule_credentials.Allows(*RepoUrl::Parse("https://x/y", &error)));
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
      {json{{"submodule_credentials", "github.com"}}, "git.submodule_credentials: must be a list"},
      {json{{"submodule_credentials", {"github.com", 3}}}, "git.submodule_credentials[1]: must be a repository URL or a host, got a number"},
      {json{{"submodule_credentials", {""}}}, "git.submodule_credentials[0]: must be a repository URL or a host"},
      {json{{"submodule_credentials", {"*.corp"}}}, "git.submodule_credentials[0]: '*.corp' is neither a host"},
      {json{{"submodule_credentials", {"ci@git.corp"}}}, "git.submodule_credentials[0]: 'ci@git.corp' is neither a host"},
      {json{{"submodule_credentials", {"github.com/acme/lib"}}}, "git.submodule_credentials[0]: malformed URL"},
      {json{{"submodule_credentials", {"https://ci:pw@github.com/acme/lib.git"}}}, "git.submodule_credentials[0]: must not hold a password"},
      {json{{"submodule_credentials", {"/srv/git/lib.git"}}}, "git.submodule_credentials[0]: a local path"},
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
