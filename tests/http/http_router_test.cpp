// HttpRouter's patterns: "{}" one segment, a last "{*}" the rest of the path.
#include <gtest/gtest.h>

#include "http/http_router.hpp"

namespace kiln::testing {
namespace {

HttpRouter BadgeAndBuildRoutes() {
  HttpRouter router;
  router.Get("/badge/{}/{}/{*}", [](const HttpRequest&) { return HttpResponse{}; });
  router.Get("/builds/{}", [](const HttpRequest&) { return HttpResponse{}; });
  return router;
}

HttpRouter::Match Find(const HttpRouter& router, const std::string& path, std::vector<std::string>* params = nullptr) {
  HttpRequest request;
  request.method = "GET";
  request.path = path;
  auto match = router.Find(request);
  if (params != nullptr) *params = request.params;
  return match;
}

TEST(HttpRouter, ALastRestPatternTakesEveryRemainingSegmentJoined) {
  const HttpRouter router = BadgeAndBuildRoutes();
  std::vector<std::string> params;
  ASSERT_NE(Find(router, "/badge/acme/shop/main.svg", &params).handler, nullptr);
  EXPECT_EQ(params, (std::vector<std::string>{"acme", "shop", "main.svg"}));
  ASSERT_NE(Find(router, "/badge/acme/shop/feature/login/v2.svg", &params).handler, nullptr);
  EXPECT_EQ(params, (std::vector<std::string>{"acme", "shop", "feature/login/v2.svg"}));
}

TEST(HttpRouter, ARestPatternNeedsAtLeastOneNonEmptySegment) {
  const HttpRouter router = BadgeAndBuildRoutes();
  for (const char* path : {"/badge/acme/shop", "/badge/acme/shop/", "/badge/acme/shop/feature/", "/badge/acme//x.svg"}) {
    auto match = Find(router, path);
    EXPECT_EQ(match.handler, nullptr) << path;
    EXPECT_EQ(match.refusal.status, 404) << path;
  }
}

TEST(HttpRouter, AOneSegmentPatternStillMatchesExactlyOne) {
  const HttpRouter router = BadgeAndBuildRoutes();
  std::vector<std::string> params;
  ASSERT_NE(Find(router, "/builds/job-1", &params).handler, nullptr);
  EXPECT_EQ(params, std::vector<std::string>{"job-1"});
  EXPECT_EQ(Find(router, "/builds/job-1/more").handler, nullptr);
  EXPECT_EQ(Find(router, "/builds/").handler, nullptr);
}

}  // namespace
}  // namespace kiln::testing
