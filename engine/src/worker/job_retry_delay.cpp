#include "worker/job_retry_delay.hpp"

#include <algorithm>
#include <cmath>

namespace kiln {

std::chrono::milliseconds JobRetryDelay(int attempt, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                        std::mt19937_64& rng, double jitter) {
  if (initial.count() <= 0) return std::chrono::milliseconds(0);
  double base = static_cast<double>(initial.count()) * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, static_cast<double>(max.count()));
  std::uniform_real_distribution<double> spread(1.0 - jitter, 1.0 + jitter);
  double delay = std::min(base * spread(rng), static_cast<double>(max.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, delay)));
}

}  // namespace kiln
