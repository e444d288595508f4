#include "pipeline/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace kiln {

Duration RetryPolicy::base_delay(int failed_attempt) const {
  if (backoff == Backoff::fixed || failed_attempt <= 1) return std::min(initial, max);
  double scaled = static_cast<double>(initial.count()) * std::pow(multiplier, failed_attempt - 1);
  if (!std::isfinite(scaled) || scaled > static_cast<double>(max.count())) return max;
  return Duration(static_cast<Duration::rep>(scaled));
}

std::pair<Duration, Duration> RetryPolicy::bounds(int failed_attempt) const {
  const double base = static_cast<double>(base_delay(failed_attempt).count());
  const auto low = static_cast<Duration::rep>(std::floor(base * (1.0 - jitter)));
  const auto high = static_cast<Duration::rep>(std::ceil(base * (1.0 + jitter)));
  return {Duration(std::max<Duration::rep>(0, std::min(low, max.count()))), Duration(std::min(high, max.count()))};
}

Duration RetryPolicy::delay(int failed_attempt, std::mt19937_64& random) const {
  const Duration base = base_delay(failed_attempt);
  if (jitter <= 0) return base;
  std::uniform_real_distribution<double> spread(-jitter, jitter);
  double jittered = static_cast<double>(base.count()) * (1.0 + spread(random));
  auto [low, high] = bounds(failed_attempt);
  auto value = static_cast<Duration::rep>(std::llround(jittered));
  return Duration(std::clamp(value, low.count(), high.count()));
}

namespace {

// A value as an error shows it. Lua strings are bytes: a plain dump() throws on one that is
// not UTF-8, and the exception would cross the Lua C function that parses the options.
std::string Shown(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<Duration> DurationFromJson(const nlohmann::json& value, const std::string& field) {
  if (value.is_number()) {
    double seconds = value.get<double>();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 366.0 * 24 * 3600)
      return MakeError(field + ": must be a duration between 0 and a year, got " + Shown(value));
    return Duration(static_cast<Duration::rep>(seconds * 1000.0));
  }
  if (value.is_string()) {
    auto parsed = ParseDuration(value.get<std::string>());
    if (!parsed) return MakeError(field + ": " + parsed.error());
    return parsed.value();
  }
  return MakeError(field + ": must be a duration like \"2s\" or a number of seconds, got " + Shown(value));
}

Result<RetryPolicy> ParseRetryPolicy(const nlohmann::json& spec, const RetryPolicy& base) {
  RetryPolicy policy = base;
  if (spec.is_null()) return policy;
  if (!spec.is_object()) return MakeError("retry: must be a table like { attempts = 3 }");
  for (const auto& [key, value] : spec.items()) {
    const std::string field = "retry." + key;
    if (key == "attempts") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 || value.get<std::int64_t>() > 100)
        return MakeError(field + ": must be a whole number from 1 to 100, got " + Shown(value));
      policy.attempts = value.get<int>();
    } else if (key == "backoff") {
      if (value == "fixed") {
        policy.backoff = RetryPolicy::Backoff::fixed;
      } else if (value == "exponential") {
        policy.backoff = RetryPolicy::Backoff::exponential;
      } else {
        return MakeError(field + ": must be \"fixed\" or \"exponential\", got " + Shown(value));
      }
    } else if (key == "initial" || key == "max") {
      auto duration = DurationFromJson(value, field);
      if (!duration) return MakeError(duration.error());
      (key == "initial" ? policy.initial : policy.max) = duration.value();
    } else if (key == "multiplier") {
      if (!value.is_number() || value.get<double>() < 1.0 || value.get<double>() > 100.0)
        return MakeError(field + ": must be a number from 1 to 100, got " + Shown(value));
      policy.multiplier = value.get<double>();
    } else if (key == "jitter") {
      if (!value.is_number() || value.get<double>() < 0.0 || value.get<double>() > 1.0)
        return MakeError(field + ": must be a fraction from 0 to 1, got " + Shown(value));
      policy.jitter = value.get<double>();
    } else {
      return MakeError(field + ": unknown field (attempts, backoff, initial, max, multiplier, jitter)");
    }
  }
  if (policy.max < policy.initial) return MakeError("retry.max: must not be less than retry.initial");
  return policy;
}

}  // namespace kiln
