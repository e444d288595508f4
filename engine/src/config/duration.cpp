#include "config/duration.hpp"

#include <cstdint>
#include <limits>

namespace kiln {

namespace {

constexpr std::string_view kDurationForms = "a duration like 90 (seconds), 250ms, 2s, 5m or 1h";

struct Unit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Suffixes are matched exactly, so "ms" never reads as "m" followed by junk.
constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return MakeError("expected " + std::string(kDurationForms) + ", got '" + std::string(text) + "'");
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return invalid();

  const std::string_view suffix = text.substr(digits);
  std::int64_t factor = 0;
  if (suffix.empty()) {
    factor = 1000;  // a bare number is seconds, as in the original worker's config
  } else {
    for (const Unit& unit : kUnits) {
      if (suffix == unit.suffix) factor = unit.milliseconds;
    }
  }
  if (factor == 0) return invalid();

  // Accumulate in milliseconds and refuse anything that would overflow the representation
  // rather than wrapping into a negative or tiny duration.
  constexpr std::int64_t kMax = std::numeric_limits<Duration::rep>::max();
  std::int64_t count = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const int digit = text[i] - '0';
    if (count > (kMax - digit) / 10) return MakeError("duration '" + std::string(text) + "' is too large");
    count = count * 10 + digit;
  }
  if (count > kMax / factor) return MakeError("duration '" + std::string(text) + "' is too large");
  return Duration(count * factor);
}

std::string FormatDuration(Duration duration) {
  std::int64_t ms = duration.count();
  std::string sign;
  if (ms < 0) {
    sign = "-";
    // The most negative value has no positive counterpart; it is not a realistic duration.
    ms = ms == std::numeric_limits<std::int64_t>::min() ? std::numeric_limits<std::int64_t>::max() : -ms;
  }
  if (ms == 0) return "0s";
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (ms % it->milliseconds == 0) {
      return sign + std::to_string(ms / it->milliseconds) + std::string(it->suffix);
    }
  }
  return sign + std::to_string(ms) + "ms";  // unreachable: every count divides by 1ms
}

}  // namespace kiln
