// kiln/repository_scope.hpp: one repository, one scope, whatever the URL's spelling; no two
// repositories (or a repository and one of its refs) share one.
#include "kiln/repository_scope.hpp"

#include <gtest/gtest.h>

namespace kiln::repository_scope {
namespace {

TEST(RepositoryScope, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(detail::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(detail::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(detail::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(detail::Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(RepositoryScope, NormalisesSpellingsOfOneRepository) {
  const std::string expected = "https://github.com/Acme/Shop";
  for (const char* url : {"https://github.com/Acme/Shop", "https://github.com/Acme/Shop.git",
                          "HTTPS://GitHub.COM/Acme/Shop/", "https://user:token@github.com/Acme/Shop.git/",
                          "https://x-access-token@github.com/Acme/Shop.git"}) {
    EXPECT_EQ(NormaliseRepositoryUrl(url), expected) << url;
    EXPECT_EQ(RepositoryScope(url), RepositoryScope(expected)) << url;
  }
  EXPECT_EQ(NormaliseRepositoryUrl("git@github.com:acme/shop.git"), "ssh://github.com/acme/shop");
  EXPECT_EQ(NormaliseRepositoryUrl("ssh://git@GitHub.com:22/acme/shop.git"), "ssh://github.com:22/acme/shop");
  EXPECT_EQ(NormaliseRepositoryUrl("/srv/git/shop.git/"), "/srv/git/shop");
  EXPECT_EQ(NormaliseRepositoryUrl("file:///srv/git/shop.git"), "file:///srv/git/shop");
}

TEST(RepositoryScope, OtherRepositoriesAndRefsGetOtherScopes) {
  const std::string shop = RepositoryScope("https://github.com/acme/shop.git");
  EXPECT_TRUE(IsScopeName(shop)) << shop;
  EXPECT_EQ(shop.size(), 5u + 32u);
  EXPECT_NE(shop, RepositoryScope("https://github.com/acme/shop2.git"));
  EXPECT_NE(shop, RepositoryScope("https://github.com/attacker/shop.git"));
  EXPECT_NE(shop, RepositoryScope("https://gitlab.com/acme/shop.git"));
  EXPECT_NE(shop, RepositoryScope("https://github.com/acme/Shop.git"));  // the path keeps its case
  const std::string ref = RefScope("https://github.com/acme/shop.git", "branch:pr-1");
  EXPECT_TRUE(IsScopeName(ref)) << ref;
  EXPECT_NE(ref, RefScope("https://github.com/acme/shop.git", "branch:pr-2"));
  EXPECT_NE(ref, RefScope("https://github.com/other/shop.git", "branch:pr-1"));
  EXPECT_EQ(RepositoryScope(""), "local");
  EXPECT_TRUE(IsScopeName("local"));
  for (const char* name : {"", ".tmp", "node-modules-abc", "repo-xyz", "repo-0123456789abcdef0123456789ABCDEF"}) {
    EXPECT_FALSE(IsScopeName(name)) << name;
  }
}

TEST(RepositoryScope, ScopesOfTrustedAndUntrustedJobs) {
  nlohmann::json job = {{"id", "01J"}, {"repo", {{"url", "https://github.com/acme/shop.git"}}}, {"branch", "main"}};
  const std::string repository = RepositoryScope("https://github.com/acme/shop.git");
  JobScopes trusted = ScopesForJob(job);  // no `trusted`: true
  EXPECT_TRUE(trusted.trusted);
  EXPECT_EQ(trusted.save, repository);
  EXPECT_EQ(trusted.restore, std::vector<std::string>{repository});

  job["trusted"] = false;
  job["branch"] = "pr-7";
  JobScopes untrusted = ScopesForJob(job);
  EXPECT_FALSE(untrusted.trusted);
  EXPECT_EQ(untrusted.save, RefScope("https://github.com/acme/shop.git", "branch:pr-7"));
  EXPECT_EQ(untrusted.restore, (std::vector<std::string>{untrusted.save, repository}));

  // Without a branch, the job's own id: it shares its saves with nobody.
  job.erase("branch");
  EXPECT_EQ(ScopesForJob(job).save, RefScope("https://github.com/acme/shop.git", "job:01J"));
  // Anything but a boolean true is not trust.
  job["trusted"] = "true";
  EXPECT_FALSE(ScopesForJob(job).trusted);
}

}  // namespace
}  // namespace kiln::repository_scope
