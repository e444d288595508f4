#include "image_naming.hpp"

#include <gtest/gtest.h>

#include <random>

namespace kiln::buildah {
namespace {

TEST(SanitizeTag, BranchNamesBecomeValidTags) {
  EXPECT_EQ(SanitizeTag("feature/Foo_bar"), "feature-foo_bar");
  EXPECT_EQ(SanitizeTag("main"), "main");
  EXPECT_EQ(SanitizeTag("release/1.2.3"), "release-1.2.3");
  EXPECT_EQ(SanitizeTag("fix//double  space"), "fix-double-space");
  EXPECT_EQ(SanitizeTag("-leading.dash"), "leading.dash");
  EXPECT_EQ(SanitizeTag(".hidden"), "hidden");
  EXPECT_EQ(SanitizeTag("trailing-/"), "trailing");
  EXPECT_EQ(SanitizeTag("_under"), "_under");
  EXPECT_EQ(SanitizeTag("ünïcode/ветка"), "n-code");
  EXPECT_EQ(SanitizeTag("///"), "");
  EXPECT_EQ(SanitizeTag(""), "");
  EXPECT_EQ(SanitizeTag(std::string(300, 'a')), std::string(128, 'a'));
}

TEST(SanitizeTag, AnyTextGivesAValidTagOrNothing) {
  std::mt19937 random(42);  // fixed seed: the same strings every run
  std::uniform_int_distribution<int> length(0, 200);
  std::uniform_int_distribution<int> byte(1, 255);
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (int n = length(random); n > 0; --n) text += static_cast<char>(byte(random));
    std::string tag = SanitizeTag(text);
    if (!tag.empty()) {
      EXPECT_TRUE(IsValidTag(tag)) << "'" << tag << "' from '" << text << "'";
    }
    EXPECT_EQ(SanitizeTag(tag), tag) << "not idempotent for '" << text << "'";
  }
}

TEST(IsValidTag, FollowsTheGrammar) {
  EXPECT_TRUE(IsValidTag("v1.0"));
  EXPECT_TRUE(IsValidTag("_x"));
  EXPECT_TRUE(IsValidTag("UPPER"));
  EXPECT_FALSE(IsValidTag(".x"));
  EXPECT_FALSE(IsValidTag("-x"));
  EXPECT_FALSE(IsValidTag("a/b"));
  EXPECT_FALSE(IsValidTag(""));
  EXPECT_FALSE(IsValidTag(std::string(129, 'a')));
}

TEST(IsValidRepository, AcceptsRegistriesAndPaths) {
  EXPECT_TRUE(IsValidRepository("localhost/acme/shop"));
  EXPECT_TRUE(IsValidRepository("registry.example.com:5000/team/app"));
  EXPECT_TRUE(IsValidRepository("shop"));
  EXPECT_TRUE(IsValidRepository("a/b__c/d-e.f"));
  EXPECT_FALSE(IsValidRepository("Acme/shop"));
  EXPECT_FALSE(IsValidRepository("localhost/acme/shop:tag"));
  EXPECT_FALSE(IsValidRepository("localhost//shop"));
  EXPECT_FALSE(IsValidRepository("-shop"));
  EXPECT_FALSE(IsValidRepository(""));
}

TEST(RepositoryPathForJob, FromNameElseFromUrl) {
  EXPECT_EQ(RepositoryPathForJob({{"repo", {{"name", "Acme/Shop_Front"}}}}), "acme/shop_front");
  EXPECT_EQ(RepositoryPathForJob({{"repo", {{"url", "https://tok@github.com/Acme/shop.git"}}}}), "acme/shop");
  EXPECT_EQ(RepositoryPathForJob({{"repo", {{"url", "git@github.com:acme/shop.git"}}}}), "acme/shop");
  EXPECT_EQ(RepositoryPathForJob({{"repo", {{"url", "file:///srv/repos/shop/"}}}}), "repos/shop");
  EXPECT_EQ(RepositoryPathForJob({{"repo", {{"name", "acme/--weird..name--"}}}}), "acme/weird.name");
  EXPECT_EQ(RepositoryPathForJob(nlohmann::json::object()), "");
}

TEST(ExpandRepository, FillsTheJobsRepository) {
  std::string error;
  nlohmann::json job = {{"repo", {{"name", "acme/shop"}}}};
  EXPECT_EQ(ExpandRepository("localhost/{repo}", job, error), "localhost/acme/shop");
  EXPECT_EQ(ExpandRepository("registry.example.com/fixed", job, error), "registry.example.com/fixed");
  EXPECT_EQ(ExpandRepository("localhost/{repo}", nlohmann::json::object(), error), "");
  EXPECT_NE(error.find("names no repository"), std::string::npos) << error;
}

TEST(TagsForJob, CommitShortIdAndBranch) {
  nlohmann::json job = {{"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"}, {"branch", "feature/Foo_bar"}};
  EXPECT_EQ(TagsForJob(job), (std::vector<std::string>{"9fceb02d0ae5", "feature-foo_bar"}));
  EXPECT_EQ(TagsForJob({{"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"}}),
            (std::vector<std::string>{"9fceb02d0ae5"}));
  EXPECT_TRUE(TagsForJob(nlohmann::json::object()).empty());
}

TEST(StripUrlCredentials, RemovesUserInfoOnly) {
  EXPECT_EQ(StripUrlCredentials("https://user:s3cret@github.com/acme/shop.git"), "https://github.com/acme/shop.git");
  EXPECT_EQ(StripUrlCredentials("https://tok@github.com/a/b"), "https://github.com/a/b");
  EXPECT_EQ(StripUrlCredentials("https://github.com/a/b@c"), "https://github.com/a/b@c");
  EXPECT_EQ(StripUrlCredentials("git@github.com:acme/shop.git"), "git@github.com:acme/shop.git");
}

TEST(OciLabelsForJob, RevisionSourceCreated) {
  nlohmann::json job = {{"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"},
                        {"repo", {{"url", "https://x:TOKEN@example.com/acme/shop.git"}}}};
  auto when = std::chrono::system_clock::from_time_t(1795342502);  // 2026-11-22T10:15:02Z
  auto labels = OciLabelsForJob(job, when);
  EXPECT_EQ(labels["org.opencontainers.image.revision"], "9fceb02d0ae598e95dc970b74767f19372d61af8");
  EXPECT_EQ(labels["org.opencontainers.image.source"], "https://example.com/acme/shop.git");
  EXPECT_EQ(labels["org.opencontainers.image.created"], "2026-11-22T10:15:02Z");
}

}  // namespace
}  // namespace kiln::buildah
