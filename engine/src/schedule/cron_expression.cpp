#include "schedule/cron_expression.hpp"

#include <array>
#include <cstdio>
#include <charconv>
#include <vector>

namespace kiln {

namespace {

using namespace std::chrono;

struct FieldSpec {
  const char* name;
  int min;
  int max;
};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59},
    {"hour", 0, 23},
    {"day of month", 1, 31},
    {"month", 1, 12},
    {"day of week", 0, 7},
}};

std::vector<std::string_view> Split(std::string_view text, char sep, bool skip_empty) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    if (!part.empty() || !skip_empty) parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

std::vector<std::string_view> SplitWhitespace(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  return parts;
}

std::string Quote(std::string_view text) { return "'" + std::string(text.substr(0, 40)) + "'"; }

Result<int> ParseNumber(std::string_view text, const FieldSpec& field, std::string_view item) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return MakeError(std::string(field.name) + ": " + Quote(item) + " is not a number, a range, '*' or a step");
  }
  if (value < field.min || value > field.max) {
    return MakeError(std::string(field.name) + ": " + std::to_string(value) + " is out of range " +
                     std::to_string(field.min) + "-" + std::to_string(field.max));
  }
  return value;
}

// One field into the set of values it allows (indices min..max of `bits`); `restricted`
// is false when the field's first item is `*` (cron's rule for the two day fields).
Result<bool> ParseField(std::string_view text, const FieldSpec& field, std::vector<bool>& bits, bool& restricted) {
  restricted = !(text.size() >= 1 && text[0] == '*');
  for (std::string_view item : Split(text, ',', false)) {
    if (item.empty()) return MakeError(std::string(field.name) + ": empty item in " + Quote(text));
    std::string_view range = item;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() || step < 1) {
        return MakeError(std::string(field.name) + ": the step in " + Quote(item) + " must be a whole number >= 1");
      }
      if (step > field.max) {
        return MakeError(std::string(field.name) + ": the step in " + Quote(item) + " is larger than " +
                         std::to_string(field.max));
      }
      if (range != "*" && range.find('-') == std::string_view::npos) {
        // "5/15" means different things in different crons; say which one is wanted.
        return MakeError(std::string(field.name) + ": a step needs '*' or a range before it (" + Quote(item) +
                         "; write '*/" + std::string(step_text) + "' or 'N-" + std::to_string(field.max) + "/" +
                         std::string(step_text) + "')");
      }
    }
    int low = field.min;
    int high = field.max;
    if (range != "*") {
      auto dash = range.find('-');
      if (dash == std::string_view::npos) {
        auto value = ParseNumber(range, field, item);
        if (!value) return MakeError(value.error());
        low = high = value.value();
      } else {
        auto first = ParseNumber(range.substr(0, dash), field, item);
        if (!first) return MakeError(first.error());
        auto last = ParseNumber(range.substr(dash + 1), field, item);
        if (!last) return MakeError(last.error());
        low = first.value();
        high = last.value();
        if (low > high) {
          return MakeError(std::string(field.name) + ": the range " + Quote(item) + " runs backwards");
        }
      }
    }
    for (int v = low; v <= high; v += step) bits[static_cast<std::size_t>(v)] = true;
  }
  return true;
}

template <std::size_t N>
std::bitset<N> ToBits(const std::vector<bool>& values) {
  std::bitset<N> out;
  for (std::size_t i = 0; i < N && i < values.size(); ++i) out[i] = values[i];
  return out;
}

}  // namespace

Result<CronExpression> CronExpression::Parse(std::string_view text) {
  std::vector<std::string_view> fields = SplitWhitespace(text);
  if (fields.size() != kFields.size()) {
    return MakeError("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                     std::to_string(fields.size()) + " in " + Quote(text));
  }
  CronExpression cron;
  cron.text_ = std::string(text);
  std::array<std::vector<bool>, 5> values;
  std::array<bool, 5> restricted{};
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    values[i].assign(static_cast<std::size_t>(kFields[i].max) + 1, false);
    if (auto parsed = ParseField(fields[i], kFields[i], values[i], restricted[i]); !parsed) {
      return MakeError(parsed.error());
    }
  }
  cron.minutes_ = ToBits<60>(values[0]);
  cron.hours_ = ToBits<24>(values[1]);
  cron.days_of_month_ = ToBits<32>(values[2]);
  cron.months_ = ToBits<13>(values[3]);
  if (values[4][7]) values[4][0] = true;  // 7 is Sunday too
  cron.days_of_week_ = ToBits<7>(values[4]);
  cron.day_of_month_restricted_ = restricted[2];
  cron.day_of_week_restricted_ = restricted[4];
  return cron;
}

bool CronExpression::DayMatches(year_month_day date) const {
  const bool dom = days_of_month_[static_cast<unsigned>(date.day())];
  const bool dow = days_of_week_[weekday(sys_days(date)).c_encoding()];
  if (day_of_month_restricted_ && day_of_week_restricted_) return dom || dow;
  return dom && dow;  // an unrestricted field has every bit set
}

bool CronExpression::Matches(TimePoint t) const {
  const sys_days day = floor<days>(t);
  const year_month_day date(day);
  const hh_mm_ss time(floor<minutes>(t - day));
  return months_[static_cast<unsigned>(date.month())] && DayMatches(date) &&
         hours_[static_cast<std::size_t>(time.hours().count())] &&
         minutes_[static_cast<std::size_t>(time.minutes().count())];
}

std::optional<CronExpression::TimePoint> CronExpression::NextAfter(TimePoint after) const {
  // Skip whole months, then days, then hours, then minutes that cannot match: at most a few
  // thousand steps even for the rarest expression (29 February on a given weekday).
  TimePoint t = floor<minutes>(after) + minutes(1);
  const sys_days limit = floor<days>(after) + days(366 * 10 + 3);
  while (floor<days>(t) < limit) {
    const sys_days day = floor<days>(t);
    const year_month_day date(day);
    if (!months_[static_cast<unsigned>(date.month())]) {
      const year_month next_month = date.year() / date.month() + months(1);
      t = sys_days(next_month / 1);
      continue;
    }
    if (!DayMatches(date)) {
      t = day + days(1);
      continue;
    }
    const hh_mm_ss time(floor<minutes>(t - day));
    if (!hours_[static_cast<std::size_t>(time.hours().count())]) {
      t = floor<hours>(t) + hours(1);
      continue;
    }
    if (!minutes_[static_cast<std::size_t>(time.minutes().count())]) {
      t += minutes(1);
      continue;
    }
    return t;
  }
  return std::nullopt;
}

std::string FormatUtc(CronExpression::TimePoint t) {
  const sys_days day = floor<days>(t);
  const year_month_day date(day);
  const hh_mm_ss time(t - day);
  char buffer[64];  // roomy: GCC cannot tell that each field has at most its digits
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

}  // namespace kiln
