// When and how often a step is tried again after a retryable error.
//
// The delay after failed attempt n (1-based) is `initial` (fixed) or
// `initial * multiplier^(n-1)` (exponential), capped at `max`, then spread by ±jitter
// (a fraction 0..1) and capped at `max` again. Terminal errors are never retried; the
// policy only answers for retryable ones.
#pragma once

#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/duration.hpp"
#include "util/result.hpp"

namespace kiln {

struct RetryPolicy {
  enum class Backoff { fixed, exponential };

  int attempts = 1;
  Backoff backoff = Backoff::exponential;
  Duration initial = std::chrono::seconds(1);
  Duration max = std::chrono::seconds(30);
  double multiplier = 2.0;
  double jitter = 0.0;

  /// The delay before attempt n+1 without jitter.
  Duration base_delay(int failed_attempt) const;
  /// The [low, high] range a jittered delay falls in.
  std::pair<Duration, Duration> bounds(int failed_attempt) const;
  Duration delay(int failed_attempt, std::mt19937_64& random) const;
};

/// Reads a policy from the script's `retry = {...}` table (as JSON) over `base`. Durations
/// are strings ("2s") or numbers of seconds. Errors name the field.
Result<RetryPolicy> ParseRetryPolicy(const nlohmann::json& spec, const RetryPolicy& base);
/// A duration from a script value: "250ms", "2s", "5m", or a number of seconds.
Result<Duration> DurationFromJson(const nlohmann::json& value, const std::string& field);

}  // namespace kiln
