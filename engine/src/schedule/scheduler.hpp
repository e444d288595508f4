// Runs the config's `schedules:` beside a worker: at each tick of a schedule's cron (UTC) it
// publishes the schedule's job on builds.webhook with
//
//   job id = Nats-Msg-Id = "schedule-<name>-<tick as YYYYMMDDTHHMMZ>"
//
// Every worker runs every schedule. They all compute the same id for the same tick, so the
// stream keeps the first message and drops the others (JetStream's duplicate window, 2
// minutes), and the KV state and the worker's claim make a job id run once even after the
// window: one job per tick however many workers there are, with no lock service and no
// leader. The cost is one publish per worker per tick, which is nothing at cron rates.
//
// A tick is fired only until `late_limit` after its time (a worker that was busy starting,
// or could not reach NATS): well inside the duplicate window, so late publishers are still
// deduplicated, and a worker started at 02:05 does not build the 02:00 job again. Ticks
// missed while no worker ran are not caught up.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "schedule/cron_expression.hpp"
#include "schedule/schedule_clock.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

struct SchedulerOptions {
  std::chrono::seconds late_limit{60};
  std::chrono::milliseconds retry_wait{1000};  // between publish attempts (real time)
};

class Scheduler {
 public:
  /// `schedules` must have passed the config loader (their cron expressions parse). `conn`
  /// must have the streams and KV bucket (EnsureStreams, which Worker::Start runs).
  Scheduler(const std::vector<ScheduleConfig>& schedules, NatsConnection& conn, ScheduleClock& clock,
            std::string worker_id, SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Starts the thread (nothing to do, and no thread, without schedules).
  void Start();
  /// Stops the thread; a publish under way finishes or gives up first.
  void Stop();

  /// "schedule-nightly-20261123T0200Z": the job id and message id of one tick.
  static std::string TickJobId(std::string_view name, CronExpression::TimePoint tick);

 private:
  struct Entry {
    ScheduleConfig config;
    CronExpression cron;
    CronExpression::TimePoint next;
  };

  void Run(std::stop_token stop);
  void Fire(const Entry& entry, CronExpression::TimePoint tick, std::stop_token stop);

  NatsConnection& conn_;
  ScheduleClock& clock_;
  std::string worker_id_;
  SchedulerOptions options_;
  std::vector<Entry> entries_;
  std::jthread thread_;
};

}  // namespace kiln
