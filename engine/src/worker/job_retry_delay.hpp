// The job-level retry delay: after a job's attempt `attempt` (1-based) failed with a
// retryable error, wait initial * 2^(attempt-1), capped at `max`, with +-20% jitter (never
// above `max`): 10s, 20s, 40s, ... 300s with the defaults of issue 7.
#pragma once

#include <chrono>
#include <random>

namespace kiln {

std::chrono::milliseconds JobRetryDelay(int attempt, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                        std::mt19937_64& rng, double jitter = 0.2);

}  // namespace kiln
