// Five-field cron in UTC: what parses, what is refused (naming the field), and the next tick.
#include "schedule/cron_expression.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace kiln {
namespace {

using namespace std::chrono;

CronExpression::TimePoint At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

std::string Next(const std::string& cron, CronExpression::TimePoint after) {
  auto parsed = CronExpression::Parse(cron);
  EXPECT_TRUE(parsed.ok()) << cron << ": " << parsed.error();
  if (!parsed.ok()) return "";
  auto next = parsed->NextAfter(after);
  return next ? FormatUtc(*next) : "never";
}

std::string ParseError(const std::string& cron) {
  auto parsed = CronExpression::Parse(cron);
  return parsed.ok() ? "parsed" : parsed.error();
}

TEST(CronExpression, NextTickOfCommonExpressions) {
  const auto t = At(2026, 11, 23, 15, 58, 33);  // a Monday
  EXPECT_EQ(Next("* * * * *", t), "2026-11-23T15:59:00Z");
  EXPECT_EQ(Next("0 2 * * *", t), "2026-11-24T02:00:00Z");
  EXPECT_EQ(Next("*/15 * * * *", t), "2026-11-23T16:00:00Z");
  EXPECT_EQ(Next("5,35 8-18/2 * * *", t), "2026-11-23T16:05:00Z");
  EXPECT_EQ(Next("0 0 1 * *", t), "2026-12-01T00:00:00Z");
  EXPECT_EQ(Next("0 0 1 1 *", t), "2027-01-01T00:00:00Z");
  EXPECT_EQ(Next("30 4 * * 0", t), "2026-11-29T04:30:00Z");   // Sunday
  EXPECT_EQ(Next("30 4 * * 7", t), "2026-11-29T04:30:00Z");   // 7 is Sunday too
  EXPECT_EQ(Next("0 9 * * 1-5", At(2026, 11, 27, 10)), "2026-11-30T09:00:00Z");  // Fri after 9 -> Mon
  EXPECT_EQ(Next("0 0 29 2 *", t), "2028-02-29T00:00:00Z");  // the next leap day
}

TEST(CronExpression, StrictlyAfterAndToTheMinute) {
  // On a tick exactly: the next one, not the same.
  EXPECT_EQ(Next("0 2 * * *", At(2026, 11, 23, 2, 0, 0)), "2026-11-24T02:00:00Z");
  EXPECT_EQ(Next("* * * * *", At(2026, 12, 31, 23, 59, 59)), "2027-01-01T00:00:00Z");
}

TEST(CronExpression, BothDayFieldsRestrictedMeansEither) {
  // Vixie cron: the 13th, and every Friday.
  const auto t = At(2026, 11, 1);  // a Sunday
  EXPECT_EQ(Next("0 0 13 * 5", t), "2026-11-06T00:00:00Z");
  EXPECT_EQ(Next("0 0 13 * 5", At(2026, 11, 12, 1)), "2026-11-13T00:00:00Z");
  // With '*' in one of them, the other decides alone.
  EXPECT_EQ(Next("0 0 13 * *", t), "2026-11-13T00:00:00Z");
  EXPECT_EQ(Next("0 0 * * 5", t), "2026-11-06T00:00:00Z");
}

TEST(CronExpression, MatchesTheWholeMinute) {
  auto cron = CronExpression::Parse("30 2 * * *");
  ASSERT_TRUE(cron.ok());
  EXPECT_TRUE(cron->Matches(At(2026, 1, 1, 2, 30, 0)));
  EXPECT_TRUE(cron->Matches(At(2026, 1, 1, 2, 30, 59)));
  EXPECT_FALSE(cron->Matches(At(2026, 1, 1, 2, 31, 0)));
}

TEST(CronExpression, ErrorsNameTheField) {
  EXPECT_EQ(ParseError("60 * * * *"), "minute: 60 is out of range 0-59");
  EXPECT_EQ(ParseError("0 24 * * *"), "hour: 24 is out of range 0-23");
  EXPECT_EQ(ParseError("0 0 0 * *"), "day of month: 0 is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "month: 13 is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * * 8"), "day of week: 8 is out of range 0-7");
  EXPECT_EQ(ParseError("0 0 * JAN *"), "month: 'JAN' is not a number, a range, '*' or a step");
  EXPECT_EQ(ParseError("0 5-1 * * *"), "hour: the range '5-1' runs backwards");
  EXPECT_EQ(ParseError("*/0 * * * *"), "minute: the step in '*/0' must be a whole number >= 1");
  EXPECT_NE(ParseError("5/15 * * * *").find("minute: a step needs '*' or a range before it"), std::string::npos);
  EXPECT_EQ(ParseError("1,,2 * * * *"), "minute: empty item in '1,,2'");
  EXPECT_NE(ParseError("0 2 * *").find("expected 5 fields"), std::string::npos);
  EXPECT_NE(ParseError("0 2 * * * *").find("expected 5 fields"), std::string::npos);
  EXPECT_NE(ParseError("@daily").find("expected 5 fields"), std::string::npos);
}

TEST(CronExpression, AnExpressionThatNeverFiresHasNoNextTick) {
  EXPECT_EQ(Next("0 0 30 2 *", At(2026, 1, 1)), "never");
  EXPECT_EQ(Next("0 0 31 4,6,9,11 *", At(2026, 1, 1)), "never");
}

}  // namespace
}  // namespace kiln
