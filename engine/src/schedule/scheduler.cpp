#include "schedule/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "transport/job_publisher.hpp"

namespace kiln {

namespace {

using TimePoint = CronExpression::TimePoint;

// A real-time pause that ends early on stop.
void Pause(std::chrono::milliseconds duration, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  cv.wait_for(lock, stop, duration, [] { return false; });
}

}  // namespace

Scheduler::Scheduler(const std::vector<ScheduleConfig>& schedules, NatsConnection& conn, ScheduleClock& clock,
                     std::string worker_id, SchedulerOptions options)
    : conn_(conn), clock_(clock), worker_id_(std::move(worker_id)), options_(options) {
  for (const ScheduleConfig& schedule : schedules) {
    auto cron = CronExpression::Parse(schedule.cron);
    if (!cron) {
      // The config loader has checked it: this is a caller's mistake, said loudly, not fatal.
      spdlog::error("schedule {}: {}; not scheduled", schedule.name, cron.error());
      continue;
    }
    entries_.push_back(Entry{schedule, std::move(cron).value(), {}});
  }
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  if (entries_.empty() || thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Scheduler::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

std::string Scheduler::TickJobId(std::string_view name, TimePoint tick) {
  // FormatUtc's "2026-11-23T02:00:00Z" without separators and seconds (ticks are minutes).
  const std::string iso = FormatUtc(tick);
  std::string compact;
  for (char c : iso.substr(0, 16)) {
    if (c != '-' && c != ':') compact += c;
  }
  return "schedule-" + std::string(name) + "-" + compact + "Z";
}

void Scheduler::Run(std::stop_token stop) {
  // The first tick of each schedule is the first one after now: starting at 02:00:30 does
  // not fire 02:00 (the workers that ran at 02:00 did).
  const TimePoint start = clock_.Now();
  for (Entry& entry : entries_) {
    entry.next = entry.cron.NextAfter(start).value_or(TimePoint::max());
    spdlog::info("schedule {}: '{}' (UTC), next tick {}", entry.config.name, entry.config.cron,
                 entry.next == TimePoint::max() ? std::string("never") : FormatUtc(entry.next));
  }
  while (!stop.stop_requested()) {
    TimePoint due = TimePoint::max();
    for (const Entry& entry : entries_) due = std::min(due, entry.next);
    if (due == TimePoint::max()) return;
    if (!clock_.SleepUntil(due, stop)) return;
    const TimePoint now = clock_.Now();
    for (Entry& entry : entries_) {
      if (entry.next > now) continue;
      if (now - entry.next <= options_.late_limit) {
        Fire(entry, entry.next, stop);
      } else {
        spdlog::warn("schedule {}: tick {} missed (now {}, more than {}s late); not fired", entry.config.name,
                     FormatUtc(entry.next), FormatUtc(now), options_.late_limit.count());
      }
      // The next tick after this one, but not one already too late to fire (after a long
      // suspend, each missed tick is not reported one by one).
      TimePoint next = entry.cron.NextAfter(entry.next).value_or(TimePoint::max());
      if (next != TimePoint::max() && next < now - options_.late_limit) {
        next = entry.cron.NextAfter(now - options_.late_limit).value_or(TimePoint::max());
      }
      entry.next = next;
    }
  }
}

void Scheduler::Fire(const Entry& entry, TimePoint tick, std::stop_token stop) {
  Job job = entry.config.job;
  job.id = TickJobId(entry.config.name, tick);
  JobPublication progress;
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    auto published = PublishJob(conn_, job, progress);
    if (published) {
      if (progress.duplicate || !progress.state_created) {
        spdlog::info("schedule {}: tick {}: job {} was already published (by another worker); nothing to do",
                     entry.config.name, FormatUtc(tick), job.id);
      } else {
        spdlog::info("schedule {}: tick {}: published job {}", entry.config.name, FormatUtc(tick), job.id);
      }
      return;
    }
    if (clock_.Now() - tick > options_.late_limit) {
      spdlog::error("schedule {}: tick {}: giving up after {} attempts: {}", entry.config.name, FormatUtc(tick),
                    attempt, published.error());
      return;
    }
    spdlog::warn("schedule {}: tick {}: {}; retrying", entry.config.name, FormatUtc(tick), published.error());
    Pause(options_.retry_wait, stop);
  }
}

}  // namespace kiln
