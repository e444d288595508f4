#include <gtest/gtest.h>

#include "cli_fetcher.hpp"
#include "repo_url.hpp"

namespace kiln::git {
namespace {

RepoUrl MustParse(const std::string& text) {
  std::string error;
  auto url = RepoUrl::Parse(text, &error);
  EXPECT_TRUE(url) << text << ": " << error;
  return url.value_or(RepoUrl{});
}

TEST(RepoUrlTest, ParsesEveryForm) {
  auto https = MustParse("https://ci:s3cret-token@GitHub.com/acme/shop.git");
  EXPECT_EQ(https.scheme, "https");
  EXPECT_EQ(https.user, "ci");
  EXPECT_EQ(https.password, "s3cret-token");
  EXPECT_EQ(https.host, "github.com");
  EXPECT_EQ(https.clean(), "https://ci@github.com/acme/shop.git");
  EXPECT_EQ(https.mirror_relative_path(), "github.com/acme/shop.git");

  auto daemon = MustParse("git://127.0.0.1:9418/shop.git");
  EXPECT_EQ(daemon.port, 9418);
  EXPECT_EQ(daemon.host_key(), "127.0.0.1:9418");
  EXPECT_EQ(daemon.mirror_relative_path(), "127.0.0.1_9418/shop.git");

  auto scp = MustParse("git@github.com:acme/shop.git");
  EXPECT_EQ(scp.scheme, "ssh");
  EXPECT_EQ(scp.user, "git");
  EXPECT_EQ(scp.clean(), "git@github.com:acme/shop.git");
  EXPECT_EQ(scp.mirror_relative_path(), "github.com/acme/shop.git");

  auto ssh = MustParse("ssh://git@[::1]:2222/acme/shop");
  EXPECT_EQ(ssh.host, "[::1]");
  EXPECT_EQ(ssh.port, 2222);
  EXPECT_EQ(ssh.clean(), "ssh://git@[::1]:2222/acme/shop");

  EXPECT_EQ(MustParse("/srv/git/shop.git").clean(), "file:///srv/git/shop.git");
  EXPECT_EQ(MustParse("file:///srv/git/shop").mirror_relative_path(), "_local/srv/git/shop.git");
}

TEST(RepoUrlTest, RefusesMalformedUrls) {
  for (const char* text : {"", "github.com/acme/shop", "ftp://host/x.git", "https://", "https:///x.git",
                           "https://host", "https://host/a/../b.git", "https://host/./a.git", "-uhack",
                           "https://host:99999/a.git", "https://host:x/a.git", "https://ho st/a.git",
                           "https://host/a b.git", "ext::sh -c touch% /tmp/x", "file://otherhost/x.git",
                           "ssh://git:pw@host/x.git", "https://bad_host!/a.git"}) {
    std::string error;
    EXPECT_FALSE(RepoUrl::Parse(text, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(RepoUrlTest, ErrorsNeverQuoteThePassword) {
  std::string error;
  EXPECT_FALSE(RepoUrl::Parse("https://u:hunter2-secret@host:bad/a.git", &error));
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(RepoUrlTest, MirrorPathsAreSafeAndDistinct) {
  auto odd = MustParse("https://host/we%20ird/.hidden.git");
  const std::string path = odd.mirror_relative_path().string();
  EXPECT_EQ(path.find(".."), std::string::npos) << path;
  EXPECT_EQ(path.find("/."), std::string::npos) << path;
  EXPECT_EQ(path.find('%'), std::string::npos) << path;
  // "a%b" and "a_b" must not share a mirror.
  EXPECT_NE(MustParse("https://host/o/a%b.git").mirror_relative_path(),
            MustParse("https://host/o/a_b.git").mirror_relative_path());
  // The same repository over https and ssh shares one.
  EXPECT_EQ(MustParse("https://github.com/acme/shop").mirror_relative_path(),
            MustParse("git@github.com:acme/shop.git").mirror_relative_path());
}

TEST(RepoUrlTest, ResolvesRelativeSubmoduleUrls) {
  auto super = MustParse("https://ci:tok@host/acme/shop.git");
  std::string error;
  auto sibling = ResolveSubmoduleUrl(super, "../lib.git", &error);
  ASSERT_TRUE(sibling) << error;
  EXPECT_EQ(sibling->clean(), "https://ci@host/acme/lib.git");
  EXPECT_TRUE(sibling->password.empty());
  auto other_owner = ResolveSubmoduleUrl(super, "../../other/lib.git", &error);
  ASSERT_TRUE(other_owner) << error;
  EXPECT_EQ(other_owner->clean(), "https://ci@host/other/lib.git");
  EXPECT_FALSE(ResolveSubmoduleUrl(super, "../../../../x.git", &error));
  auto absolute = ResolveSubmoduleUrl(super, "git://elsewhere/x.git", &error);
  ASSERT_TRUE(absolute) << error;
  EXPECT_EQ(absolute->host, "elsewhere");
}

TEST(CliProgressTest, ReadsTheFinalObjectCount) {
  std::size_t objects = 0, bytes = 0;
  ParseCliProgress("remote: Enumerating objects: 5, done.\n"
                   "Receiving objects:  40% (2/5)\rReceiving objects: 100% (5/5), 1.50 KiB | 1.50 MiB/s, done.\n"
                   "Resolving deltas: 100% (1/1), done.\n",
                   &objects, &bytes);
  EXPECT_EQ(objects, 5u);
  EXPECT_EQ(bytes, 1536u);
  ParseCliProgress("Unpacking objects: 100% (3/3), 280 bytes | 280.00 KiB/s, done.\n", &objects, &bytes);
  EXPECT_EQ(objects, 3u);
  EXPECT_EQ(bytes, 280u);
  ParseCliProgress("remote: Total 7 (delta 1), reused 0 (delta 0), pack-reused 0\n", &objects, &bytes);
  EXPECT_EQ(objects, 7u);
  ParseCliProgress("", &objects, &bytes);
  EXPECT_EQ(objects, 0u);
}

}  // namespace
}  // namespace kiln::git
