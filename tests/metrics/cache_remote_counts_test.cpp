// kiln_cache_remote_total from the totals the cache plugin's cache.stats reports.
#include "metrics/cache_remote_counts.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "metrics/metrics_http.hpp"
#include "support/contains.hpp"

namespace kiln {
namespace {

using testing::Contains;

TEST(CacheRemoteCounts, TotalsBecomeCounterIncrements) {
  prometheus::Registry registry;
  CacheRemoteCounts counts(prometheus::BuildCounter().Name("kiln_cache_remote_total").Help("h").Register(registry));
  counts.Update(nullptr);  // no remote level: nothing
  EXPECT_FALSE(Contains(PrometheusText(registry), "kiln_cache_remote_total{"));
  counts.Update({{"fetch", {{"hit", 2}, {"miss", 1}}}, {"push", {{"ok", 1}}}, {"pushes_pending", 3}});
  counts.Update({{"fetch", {{"hit", 5}, {"miss", 1}, {"rejected", 1}}}, {"push", {{"ok", 1}, {"error", 2}}}});
  // A name that is not a plain word never becomes a label.
  counts.Update({{"push", {{"ok\"} 99\nevil{x=\"", 7}}}});
  const std::string text = PrometheusText(registry);
  EXPECT_TRUE(Contains(text, "kiln_cache_remote_total{op=\"fetch\",result=\"hit\"} 5")) << text;
  EXPECT_TRUE(Contains(text, "kiln_cache_remote_total{op=\"fetch\",result=\"miss\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_cache_remote_total{op=\"fetch\",result=\"rejected\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_cache_remote_total{op=\"push\",result=\"ok\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_cache_remote_total{op=\"push\",result=\"error\"} 2")) << text;
  EXPECT_FALSE(Contains(text, "evil")) << text;
  EXPECT_FALSE(Contains(text, "pushes_pending")) << text;
}

}  // namespace
}  // namespace kiln
