#include "config/duration.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace kiln {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEveryDocumentedForm) {
  const std::vector<std::pair<std::string, Duration>> cases = {
      {"90", seconds(90)},   {"0", Duration::zero()}, {"250ms", milliseconds(250)}, {"2s", seconds(2)},
      {"5m", minutes(5)},    {"1h", hours(1)},        {"1500ms", milliseconds(1500)}, {"3600", hours(1)},
      {"007s", seconds(7)},  {"0ms", Duration::zero()},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = ParseDuration(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error();
    EXPECT_EQ(parsed.value(), expected) << text;
  }
}

TEST(ParseDuration, RefusesAnythingElseNamingTheForms) {
  for (const std::string text : {"", "s", "ms", "-5s", "1.5s", "1.5", "2 s", " 2s", "2S", "2sec", "1d",
                                 "1h30m", "abc", "5x", "+3s", "0x10"}) {
    auto parsed = ParseDuration(text);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "' was accepted";
    EXPECT_NE(parsed.error().find("250ms"), std::string::npos) << parsed.error();
    EXPECT_NE(parsed.error().find("'" + text + "'"), std::string::npos) << parsed.error();
  }
}

TEST(ParseDuration, RefusesOverflowInsteadOfWrapping) {
  for (const std::string text : {"9223372036854775808ms", "99999999999999999999", "9999999999999999h"}) {
    auto parsed = ParseDuration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().find("too large"), std::string::npos) << parsed.error();
  }
  EXPECT_TRUE(ParseDuration("9223372036854775807ms").ok());
}

TEST(FormatDuration, GivesTheShortestExactForm) {
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(seconds(2)), "2s");
  EXPECT_EQ(FormatDuration(seconds(90)), "90s");
  EXPECT_EQ(FormatDuration(minutes(5)), "5m");
  EXPECT_EQ(FormatDuration(hours(1)), "1h");
  EXPECT_EQ(FormatDuration(hours(48)), "48h");
  EXPECT_EQ(FormatDuration(Duration::zero()), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(-2000)), "-2s");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (std::int64_t ms : {1LL, 999LL, 1000LL, 1001LL, 59'000LL, 60'000LL, 61'000LL, 3'600'000LL, 5'400'000LL,
                          86'400'000LL, 123'456'789LL}) {
    const std::string text = FormatDuration(milliseconds(ms));
    auto parsed = ParseDuration(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(parsed.value().count(), ms) << text;
  }
}

}  // namespace
}  // namespace kiln
