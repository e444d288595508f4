// A standard five-field cron expression ("0 2 * * *"), evaluated in UTC.
//
//   minute (0-59)  hour (0-23)  day of month (1-31)  month (1-12)  day of week (0-7, 0 and 7 = Sunday)
//
// Each field is a comma-separated list of items; an item is `*`, a number `N`, a range
// `N-M`, or either of `*` and `N-M` with a step (`*/15`, `8-18/2`). Names (JAN, MON), `?`,
// `L`, `W`, `#` and the @daily shorthands are not accepted: a schedule means the same thing
// to everyone who reads it. As in Vixie cron, when both day fields are restricted (neither
// starts with `*`), a day matches when either matches ("0 0 1 * 1": the 1st and every Monday).
//
// UTC and not the machine's zone, so that every worker of a cluster computes the same tick
// times: the tick time is part of the message id that makes the tick fire once.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace kiln {

class CronExpression {
 public:
  using TimePoint = std::chrono::sys_seconds;

  /// Parses and checks `text`. An error names the field and the item:
  /// "hour: 24 is out of range 0-23".
  static Result<CronExpression> Parse(std::string_view text);

  /// The first whole minute strictly after `after` that matches; nullopt when none comes in
  /// the next ten years (an expression like "0 0 31 2 *" that never fires).
  std::optional<TimePoint> NextAfter(TimePoint after) const;

  /// Whether the minute containing `t` matches.
  bool Matches(TimePoint t) const;

  const std::string& text() const { return text_; }

 private:
  CronExpression() = default;
  bool DayMatches(std::chrono::year_month_day date) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bit 0 unused
  std::bitset<13> months_;         // bit 0 unused
  std::bitset<7> days_of_week_;    // 0 = Sunday (7 is folded onto 0)
  bool day_of_month_restricted_ = false;
  bool day_of_week_restricted_ = false;
};

/// "2026-11-23T02:00:00Z".
std::string FormatUtc(CronExpression::TimePoint t);

}  // namespace kiln
