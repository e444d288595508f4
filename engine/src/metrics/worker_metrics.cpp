#include "metrics/worker_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "events/job_events.hpp"

namespace kiln {

namespace {

// Builds run from seconds to an hour; steps from under a second.
const prometheus::Histogram::BucketBoundaries kJobBuckets = {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600};
const prometheus::Histogram::BucketBoundaries kStepBuckets = {0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600};

double Seconds(const nlohmann::json& event, const char* key) {
  auto it = event.find(key);
  return it != event.end() && it->is_number() ? it->get<double>() / 1000.0 : -1;
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry)
    : jobs_(prometheus::BuildCounter()
                .Name("kiln_jobs_total")
                .Help("Job attempts ended on this worker, by outcome")
                .Register(registry)),
      job_duration_(prometheus::BuildHistogram()
                        .Name("kiln_job_duration_seconds")
                        .Help("Run time of a job attempt")
                        .Register(registry)
                        .Add({}, kJobBuckets)),
      step_duration_(prometheus::BuildHistogram()
                         .Name("kiln_step_duration_seconds")
                         .Help("Run time of a pipeline step attempt, by step name")
                         .Register(registry)),
      in_progress_(prometheus::BuildGauge()
                       .Name("kiln_jobs_in_progress")
                       .Help("Job attempts running on this worker")
                       .Register(registry)
                       .Add({})),
      step_retries_(prometheus::BuildCounter()
                        .Name("kiln_step_retries_total")
                        .Help("Step retries (step.retrying events)")
                        .Register(registry)
                        .Add({})),
      dead_letters_(prometheus::BuildCounter()
                        .Name("kiln_dead_letters_total")
                        .Help("Jobs this worker sent to the dead-letter subject builds.dlq")
                        .Register(registry)
                        .Add({})) {
  // The usual outcomes show as 0 from the start, so a rate() over them works before the first.
  for (const char* status : {"succeeded", "failed", "cancelled", "timed_out", "dead", "retrying"}) {
    jobs_.Add({{"status", status}});
  }
}

void WorkerMetrics::EndAttempt(const std::string& job, const std::string& status, const nlohmann::json& event) {
  // Called with mutex_ held.
  auto it = running_.find(job);
  const bool was_running = it != running_.end();
  double seconds = Seconds(event, "duration_ms");
  if (was_running) {
    if (seconds < 0) seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count();
    running_.erase(it);
    in_progress_.Decrement();
  }
  jobs_.Add({{"status", status}}).Increment();
  if (seconds >= 0) job_duration_.Observe(seconds);
}

void WorkerMetrics::publish(const nlohmann::json& event) {
  const std::string type = event.value("type", "");
  const std::string job = event.value("job", "");
  std::lock_guard lock(mutex_);
  if (type == event_type::kJobStarted) {
    if (running_.emplace(job, std::chrono::steady_clock::now()).second) in_progress_.Increment();
  } else if (type == event_type::kStepRetrying) {
    step_retries_.Increment();
  } else if (type == event_type::kStepFinished) {
    std::string step = event.value("step", "");
    if (step_names_.count(step) == 0) {
      if (step_names_.size() < kMaxStepLabels) step_names_.insert(step);
      else step = "other";
    }
    if (double seconds = Seconds(event, "duration_ms"); seconds >= 0) {
      step_duration_.Add({{"step", step}}, kStepBuckets).Observe(seconds);
    }
  } else if (type == event_type::kJobQueued) {
    // After a start: the worker handed the job back (shutdown); it runs again elsewhere.
    if (running_.count(job) > 0) EndAttempt(job, "requeued", event);
  } else if (type == event_type::kAttemptLeaseLost) {
    if (running_.count(job) > 0) EndAttempt(job, "lease_lost", event);
  } else if (event_type::IsTerminal(type)) {
    std::string status = type.substr(4);  // "job.succeeded" -> "succeeded"
    if (type == event_type::kJobFailed && event.value("will_retry", false)) status = "retrying";
    if (type == event_type::kJobDead || event.value("dead_lettered", false)) dead_letters_.Increment();
    EndAttempt(job, status, event);
  }
}

}  // namespace kiln
