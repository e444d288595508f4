// kiln/repository_area.hpp: each repository (and each ref of an untrusted job) has an area of
// its own in the build cache, named so people can read it and so the URL decides.
#include "kiln/repository_area.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.hpp"

namespace kiln::repository_area {
namespace {

using repository_scope::RepositoryScope;

TEST(RepositoryArea, ASanitizedNameThenTheRepositorysScope) {
  const nlohmann::json shop = {{"repo", {{"name", "acme/shop"}, {"url", "https://x/acme/shop.git"}}}};
  const auto key = AreaName(shop);
  EXPECT_EQ(key, "acme-shop-" + RepositoryScope("https://x/acme/shop.git"));
  // Names that sanitize alike stay apart.
  EXPECT_NE(key, AreaName({{"repo", {{"name", "acme-shop"}, {"url", "https://x/acme-shop.git"}}}}));
  // The URL decides, not the name: another repository calling itself acme/shop gets its own.
  EXPECT_NE(key, AreaName({{"repo", {{"name", "acme/shop"}, {"url", "https://x/attacker/shop.git"}}}}));
  // ...and spellings of one URL meet.
  EXPECT_EQ(key, AreaName({{"repo", {{"name", "acme/shop"}, {"url", "HTTPS://token@X/acme/shop/"}}}}));
  // Without a name: the URL, never its credentials.
  const auto from_url = AreaName({{"repo", {{"url", "https://user:s3cret@git.example/acme/shop.git"}}}});
  EXPECT_EQ(from_url.find("s3cret"), std::string::npos);
  EXPECT_EQ(from_url.rfind("git.example-acme-shop-repo-", 0), 0u) << from_url;
  EXPECT_EQ(AreaName(nlohmann::json::object()), "local");
  EXPECT_EQ(AreaName({{"repo", {{"name", ".."}, {"url", "https://x/y"}}}}).rfind("repo-", 0), 0u);
}

TEST(RepositoryArea, AnUntrustedJobHasAnAreaOfItsRef) {
  nlohmann::json job = {{"repo", {{"name", "acme/shop"}, {"url", "https://x/acme/shop.git"}}}, {"branch", "main"}};
  const auto trusted = AreaName(job);
  job["trusted"] = false;
  job["branch"] = "fork-pr-1";
  const auto untrusted = AreaName(job);
  EXPECT_NE(untrusted, trusted);
  EXPECT_EQ(untrusted.rfind("acme-shop-ref-", 0), 0u) << untrusted;
  job["branch"] = "fork-pr-2";
  EXPECT_NE(AreaName(job), untrusted);
}

TEST(RepositoryArea, TellsItsNamesFromOtherDirectories) {
  const nlohmann::json shop = {{"repo", {{"name", "acme/shop"}, {"url", "https://x/acme/shop.git"}}}};
  EXPECT_TRUE(IsAreaName(AreaName(shop)));
  EXPECT_TRUE(IsAreaName("local"));
  nlohmann::json untrusted = shop;
  untrusted["trusted"] = false;
  EXPECT_TRUE(IsAreaName(AreaName(untrusted)));
  // The build cache's other directories are not areas.
  for (const char* other : {"keyed", "npm", "maven", "buildah", ".evicting-npm-1", "repo-", "x-repo-1234",
                            "-repo-0123456789abcdef0123456789abcdef", "x-repo-0123456789abcdef0123456789ABCDEF"}) {
    EXPECT_FALSE(IsAreaName(other)) << other;
  }
}

TEST(RepositoryArea, MarkUsedCreatesTheAreaAndTouchesItsMarker) {
  kiln::testing::TempDir dir("kiln-area");
  const auto area = AreaRoot(dir.path(), {{"repo", {{"url", "https://x/acme/shop.git"}}}});
  ASSERT_EQ(MarkUsed(area), "");
  EXPECT_TRUE(std::filesystem::exists(area / ".kiln-last-used"));
  EXPECT_EQ(DependencyRoot(area), area / "deps");
}

}  // namespace
}  // namespace kiln::repository_area
