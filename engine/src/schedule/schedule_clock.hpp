// Where the scheduler gets the time and how it waits for a tick: the system clock in a
// worker; a clock the test moves by hand, so a test of "every minute" takes no minute.
#pragma once

#include <chrono>
#include <stop_token>

namespace kiln {

class ScheduleClock {
 public:
  using TimePoint = std::chrono::sys_seconds;
  virtual ~ScheduleClock() = default;
  virtual TimePoint Now() = 0;
  /// Returns when Now() >= `t` (true) or when `stop` is requested (false), whichever first.
  virtual bool SleepUntil(TimePoint t, std::stop_token stop) = 0;
};

/// The system clock (UTC, like cron expressions here).
class SystemScheduleClock final : public ScheduleClock {
 public:
  TimePoint Now() override;
  bool SleepUntil(TimePoint t, std::stop_token stop) override;
};

}  // namespace kiln
