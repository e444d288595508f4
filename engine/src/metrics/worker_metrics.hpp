// The worker's Prometheus metrics, folded from the job events it publishes (an EventSink the
// worker hands every event to: Worker::set_event_observer), so no metric needs a call of
// its own in the worker's code paths:
//
//   kiln_jobs_total{status}             attempts ended, by how: succeeded, failed,
//                                       cancelled, timed_out, dead, retrying (failed, will
//                                       run again), requeued (handed back at shutdown),
//                                       lease_lost (another worker took it over)
//   kiln_job_duration_seconds           histogram of an attempt's run time
//   kiln_step_duration_seconds{step}    histogram per step name (the first kMaxStepLabels
//                                       names; later ones share step="other", so a
//                                       pipeline with generated step names cannot grow
//                                       the scrape without bound)
//   kiln_jobs_in_progress               attempts running on this worker now
//   kiln_step_retries_total             step.retrying events
//   kiln_dead_letters_total             jobs this worker dead-lettered (job.dead, and a
//                                       timed-out job, which is dead-lettered too)
// Thread-safe: events come from every job thread at once.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "events/event_sink.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace kiln {

class WorkerMetrics : public EventSink {
 public:
  static constexpr std::size_t kMaxStepLabels = 100;

  explicit WorkerMetrics(prometheus::Registry& registry);

  void publish(const nlohmann::json& event) override;

 private:
  void EndAttempt(const std::string& job, const std::string& status, const nlohmann::json& event);

  prometheus::Family<prometheus::Counter>& jobs_;
  prometheus::Histogram& job_duration_;
  prometheus::Family<prometheus::Histogram>& step_duration_;
  prometheus::Gauge& in_progress_;
  prometheus::Counter& step_retries_;
  prometheus::Counter& dead_letters_;

  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> running_;  // job id -> started
  std::set<std::string> step_names_;
};

}  // namespace kiln
