// GET /badge/<owner>/<repo>/<branch>.svg: the SVG, and a real `kiln gateway` answering it
// from the job states in KV (written here as workers write them).
#include <gtest/gtest.h>

#include "gateway/build_badge.hpp"
#include "gateway_fixture.hpp"
#include "support/contains.hpp"
#include "transport/job_state_store.hpp"

namespace kiln::testing {
namespace {

TEST(BuildBadge, SaysOneFixedWordPerStatus) {
  EXPECT_EQ(BadgeForStatus("succeeded").message, "passing");
  EXPECT_EQ(BadgeForStatus("failed").message, "failing");
  EXPECT_EQ(BadgeForStatus("dead").message, "failing");
  EXPECT_EQ(BadgeForStatus("running").message, "running");
  EXPECT_EQ(BadgeForStatus("queued").message, "queued");
  EXPECT_EQ(BadgeForStatus("cancelled").message, "cancelled");
  EXPECT_EQ(BadgeForStatus("").message, "unknown");
  EXPECT_EQ(BadgeForStatus("<script>").message, "unknown");
  EXPECT_NE(BadgeForStatus("succeeded").colour, BadgeForStatus("failed").colour);
}

TEST(BuildBadge, IsAnSvgNamingLabelAndMessage) {
  const std::string svg = RenderBadgeSvg(BadgeForStatus("succeeded"));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg;
  EXPECT_TRUE(Contains(svg, "aria-label=\"build: passing\"")) << svg;
  EXPECT_TRUE(Contains(svg, ">passing</text>")) << svg;
  EXPECT_TRUE(Contains(svg, "</svg>")) << svg;
}

class BadgeTest : public GatewayTest {
 protected:
  // A state as the webhook and a worker leave it, `minutes` after a fixed start.
  void PutState(const std::string& id, const std::string& repo, const std::string& branch, const std::string& status,
                int minutes) {
    char queued_at[32];
    std::snprintf(queued_at, sizeof queued_at, "2026-12-05T10:%02d:00Z", minutes);
    nlohmann::json state = {{"id", id},
                            {"status", status},
                            {"repo", {{"url", "https://github.com/" + repo + ".git"}, {"name", repo}}},
                            {"branch", branch},
                            {"commit", kPushedCommit},
                            {"queued_at", queued_at}};
    ASSERT_TRUE(JobStateStore(client_->builds_kv()).Put(id, state));
  }

  httplib::Result Badge(const std::string& path) { return Client().Get(path); }  // no token: a README's image

  std::string BadgeMessage(const std::string& path) {
    auto res = Badge(path);
    if (!res || res->status != 200) return "no badge";
    for (const char* word : {"passing", "failing", "running", "queued", "cancelled", "unknown"}) {
      if (Contains(res->body, std::string(">") + word + "</text>")) return word;
    }
    return "unreadable badge: " + res->body;
  }
};

TEST_F(BadgeTest, ABranchShowsItsNewestBuildWithoutAToken) {
  StartGateway();
  PutState("shop-1", "acme/shop", "main", "failed", 1);
  PutState("shop-2", "acme/shop", "main", "succeeded", 2);
  PutState("shop-3", "acme/shop", "feature/login", "running", 3);
  PutState("other-1", "acme/other", "main", "failed", 4);

  auto res = Badge("/badge/acme/shop/main.svg");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_TRUE(Contains(res->get_header_value("Cache-Control"), "no-cache"));
  EXPECT_TRUE(Contains(res->body, ">passing</text>")) << res->body;
  EXPECT_FALSE(Contains(res->body, "acme")) << "a badge says a status, nothing the job named: " << res->body;

  EXPECT_EQ(BadgeMessage("/badge/acme/shop/feature/login.svg"), "running");
  EXPECT_EQ(BadgeMessage("/badge/acme/shop/feature%2Flogin.svg"), "running");
  EXPECT_EQ(BadgeMessage("/badge/acme/other/main.svg"), "failing");
  EXPECT_EQ(BadgeMessage("/badge/acme/shop/no-such-branch.svg"), "unknown");
  EXPECT_EQ(BadgeMessage("/badge/nobody/nothing/main.svg"), "unknown");

  // A newer build of the branch shows once the gateway reads the states again (every 5 s).
  PutState("shop-4", "acme/shop", "main", "dead", 5);
  std::string message;
  for (int i = 0; i < 150 && (message = BadgeMessage("/badge/acme/shop/main.svg")) != "failing"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(message, "failing");
}

TEST_F(BadgeTest, APathThatNamesNoBadgeIsA404WithAReason) {
  StartGateway();
  for (const char* path : {"/badge/acme/shop/main", "/badge/acme/shop/main.png", "/badge/acme/shop/.svg",
                           "/badge/acme/shop/%zz.svg", "/badge/acme/shop"}) {
    auto res = Badge(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    EXPECT_TRUE(body.contains("error")) << path << ": " << res->body;
  }
}

TEST_F(BadgeTest, BadgesOffAreNotServed) {
  AppendGatewaySection("  badges: false\n");
  StartGateway();
  PutState("shop-1", "acme/shop", "main", "succeeded", 1);
  auto res = Badge("/badge/acme/shop/main.svg");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
}

}  // namespace
}  // namespace kiln::testing
