#include "schedule/schedule_clock.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace kiln {

ScheduleClock::TimePoint SystemScheduleClock::Now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

bool SystemScheduleClock::SleepUntil(TimePoint t, std::stop_token stop) {
  // Waits in slices of at most a few seconds and looks at the wall clock again after each:
  // a wait on the system clock does not notice the clock being set (NTP step, a resumed VM).
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  while (!stop.stop_requested()) {
    const auto now = std::chrono::system_clock::now();
    if (now >= t) return true;
    const auto slice = std::min<std::chrono::system_clock::duration>(t - now, std::chrono::seconds(5));
    cv.wait_for(lock, stop, slice, [] { return false; });
  }
  return false;
}

}  // namespace kiln
