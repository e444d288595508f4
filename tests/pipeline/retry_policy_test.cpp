// Retry policy as properties: for many random policies and attempts, every delay lies in
// its bounds, jitter stays within its fraction, the cap holds, and parsing names bad fields.
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "pipeline/retry_policy.hpp"

namespace kiln {
namespace {

using std::chrono::milliseconds;

RetryPolicy RandomPolicy(std::mt19937_64& random) {
  std::uniform_int_distribution<int> attempts(1, 10);
  std::uniform_int_distribution<int> initial_ms(0, 5000);
  std::uniform_int_distribution<int> extra_max_ms(0, 60000);
  std::uniform_real_distribution<double> multiplier(1.0, 5.0);
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  RetryPolicy policy;
  policy.attempts = attempts(random);
  policy.backoff = random() % 2 ? RetryPolicy::Backoff::fixed : RetryPolicy::Backoff::exponential;
  policy.initial = milliseconds(initial_ms(random));
  policy.max = policy.initial + milliseconds(extra_max_ms(random));
  policy.multiplier = multiplier(random);
  policy.jitter = jitter(random);
  return policy;
}

TEST(RetryPolicyProperty, EveryDelayWithinBoundsAndCap) {
  std::mt19937_64 random(12345);
  for (int trial = 0; trial < 2000; ++trial) {
    RetryPolicy policy = RandomPolicy(random);
    for (int attempt = 1; attempt <= 12; ++attempt) {
      const auto base = policy.base_delay(attempt);
      const auto [low, high] = policy.bounds(attempt);
      const auto delay = policy.delay(attempt, random);
      ASSERT_LE(delay, policy.max) << "trial " << trial << " attempt " << attempt;
      ASSERT_GE(delay.count(), 0);
      ASSERT_GE(delay, low);
      ASSERT_LE(delay, high);
      // Jitter moves a delay by at most its fraction of the base (+1 ms rounding).
      ASSERT_LE(std::abs(static_cast<double>(delay.count() - base.count())),
                policy.jitter * static_cast<double>(base.count()) + 1.0);
    }
  }
}

TEST(RetryPolicyProperty, ExponentialGrowsUntilTheCapFixedStaysFlat) {
  RetryPolicy policy;
  policy.initial = milliseconds(100);
  policy.max = milliseconds(1000);
  policy.multiplier = 2;
  EXPECT_EQ(policy.base_delay(1), milliseconds(100));
  EXPECT_EQ(policy.base_delay(2), milliseconds(200));
  EXPECT_EQ(policy.base_delay(3), milliseconds(400));
  EXPECT_EQ(policy.base_delay(4), milliseconds(800));
  EXPECT_EQ(policy.base_delay(5), milliseconds(1000));
  EXPECT_EQ(policy.base_delay(60), milliseconds(1000));  // no overflow far out
  policy.backoff = RetryPolicy::Backoff::fixed;
  for (int attempt = 1; attempt < 10; ++attempt) EXPECT_EQ(policy.base_delay(attempt), milliseconds(100));
}

TEST(RetryPolicyProperty, JitterActuallySpreads) {
  RetryPolicy policy;
  policy.initial = milliseconds(1000);
  policy.max = milliseconds(10000);
  policy.jitter = 0.5;
  std::mt19937_64 random(7);
  std::set<long> seen;
  for (int i = 0; i < 200; ++i) seen.insert(policy.delay(1, random).count());
  EXPECT_GT(seen.size(), 50u);
  EXPECT_GE(*seen.begin(), 500);
  EXPECT_LE(*seen.rbegin(), 1500);
}

TEST(RetryPolicyParse, ReadsEveryField) {
  auto policy = ParseRetryPolicy(
      {{"attempts", 5}, {"backoff", "fixed"}, {"initial", "250ms"}, {"max", 30}, {"multiplier", 3}, {"jitter", 0.2}},
      RetryPolicy{});
  ASSERT_TRUE(policy) << policy.error();
  EXPECT_EQ(policy->attempts, 5);
  EXPECT_EQ(policy->backoff, RetryPolicy::Backoff::fixed);
  EXPECT_EQ(policy->initial, milliseconds(250));
  EXPECT_EQ(policy->max, milliseconds(30000));
  EXPECT_DOUBLE_EQ(policy->multiplier, 3);
  EXPECT_DOUBLE_EQ(policy->jitter, 0.2);
}

TEST(RetryPolicyParse, ErrorsNameTheField) {
  struct Case {
    nlohmann::json spec;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{{{{"attempts", 0}}, "retry.attempts"},
                                         {{{"attempts", 1.5}}, "retry.attempts"},
                                         {{{"backoff", "linear"}}, "retry.backoff"},
                                         {{{"initial", "soon"}}, "retry.initial"},
                                         {{{"jitter", 1.5}}, "retry.jitter"},
                                         {{{"multiplier", 0.5}}, "retry.multiplier"},
                                         {{{"initial", "10s"}, {"max", "1s"}}, "retry.max"},
                                         {{{"atempts", 3}}, "retry.atempts"}}) {
    auto policy = ParseRetryPolicy(c.spec, RetryPolicy{});
    ASSERT_FALSE(policy) << c.spec.dump();
    EXPECT_NE(policy.error().find(c.field), std::string::npos) << policy.error();
  }
}

TEST(RetryPolicyParse, AValueThatIsNotUtf8IsShownNotThrown) {
  // A Lua string is bytes: `backoff = "\xff"` reached value.dump(), which threw out of the
  // error path instead of returning the error.
  nlohmann::json spec = {{"backoff", std::string("\xff\xfe")}};
  auto policy = ParseRetryPolicy(spec, RetryPolicy{});
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().rfind("retry.backoff: must be \"fixed\" or \"exponential\", got \"", 0), 0u) << policy.error();
}

}  // namespace
}  // namespace kiln
