// The worker's metrics: folded from its events (unit), and served on worker.metrics_port
// by a real `kiln worker` after it ran jobs (end to end).
#include "metrics/worker_metrics.hpp"

#include <httplib.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include "metrics/metrics_http.hpp"
#include "worker/worker_fixture.hpp"
#include "support/contains.hpp"

namespace kiln {
namespace {

using testing::Contains;

nlohmann::json Event(const std::string& job, const std::string& type, nlohmann::json fields = {}) {
  nlohmann::json e = {{"job", job}, {"type", type}};
  if (fields.is_object()) e.update(fields);
  return e;
}

TEST(WorkerMetrics, FoldsTheEventsOfJobAttempts) {
  prometheus::Registry registry;
  WorkerMetrics metrics(registry);
  metrics.publish(Event("a", "job.started"));
  metrics.publish(Event("b", "job.started"));
  metrics.publish(Event("c", "job.started"));
  std::string text = PrometheusText(registry);
  EXPECT_TRUE(Contains(text, "kiln_jobs_in_progress 3")) << text;

  metrics.publish(Event("a", "step.started", {{"step", "git sync"}}));
  metrics.publish(Event("a", "step.retrying", {{"step", "git sync"}, {"delay_ms", 10}}));
  metrics.publish(Event("a", "step.finished", {{"step", "git sync"}, {"status", "ok"}, {"duration_ms", 2500}}));
  metrics.publish(Event("a", "job.succeeded", {{"duration_ms", 3000}}));
  metrics.publish(Event("b", "job.failed", {{"duration_ms", 1000}, {"will_retry", true}}));
  metrics.publish(Event("c", "job.dead", {{"duration_ms", 1000}, {"reason", "terminal failure"}}));
  metrics.publish(Event("d", "job.started"));
  metrics.publish(Event("d", "job.timed_out", {{"duration_ms", 60000}, {"dead_lettered", true}}));
  metrics.publish(Event("e", "job.started"));
  metrics.publish(Event("e", "job.queued", {{"message", "worker shutting down"}}));
  metrics.publish(Event("f", "job.started"));
  metrics.publish(Event("f", "attempt.lease_lost"));
  metrics.publish(Event("", "job.dead", {{"reason", "invalid message: commit: missing"}}));  // never a job

  text = PrometheusText(registry);
  EXPECT_TRUE(Contains(text, "kiln_jobs_in_progress 0")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"succeeded\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"retrying\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"dead\"} 2")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"timed_out\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"requeued\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"lease_lost\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"failed\"} 0")) << text;
  EXPECT_TRUE(Contains(text, "kiln_dead_letters_total 3")) << text;
  EXPECT_TRUE(Contains(text, "kiln_step_retries_total 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_step_duration_seconds_count{step=\"git sync\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_step_duration_seconds_sum{step=\"git sync\"} 2.5")) << text;
  EXPECT_TRUE(Contains(text, "kiln_job_duration_seconds_count 6")) << text;
}

TEST(WorkerMetrics, StepNamesBeyondTheCapShareOneLabel) {
  prometheus::Registry registry;
  WorkerMetrics metrics(registry);
  for (std::size_t i = 0; i < WorkerMetrics::kMaxStepLabels + 5; ++i) {
    metrics.publish(Event("j", "step.finished", {{"step", "step " + std::to_string(i)}, {"duration_ms", 1}}));
  }
  const std::string text = PrometheusText(registry);
  EXPECT_TRUE(Contains(text, "kiln_step_duration_seconds_count{step=\"other\"} 5")) << text.substr(0, 2000);
  EXPECT_FALSE(Contains(text, "step=\"step " + std::to_string(WorkerMetrics::kMaxStepLabels) + "\""));
}

}  // namespace

namespace testing {
namespace {

class WorkerMetricsTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    port_ = FreeLoopbackPort();
    // The worker reads it like any key (WORKER_METRICS_PORT); each test is its own process.
    ::setenv("WORKER_METRICS_PORT", std::to_string(port_).c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("WORKER_METRICS_PORT");
    WorkerTest::TearDown();
  }
  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::seconds(2));
    return client.Get(path);
  }
  int port_ = 0;
};

TEST_F(WorkerMetricsTest, AWorkerServesItsMetricsAfterRunningJobs) {
  StartWorker();
  PublishJob("metrics-ok", "noop");
  PublishJob("metrics-broken", "broken");
  PublishRaw(R"({"id": "metrics-invalid", "repo": {"url": "https://example.invalid/a/b.git"}})", "metrics-invalid");
  ASSERT_FALSE(WaitForStatus("metrics-ok", {"succeeded"}).is_null());
  ASSERT_FALSE(WaitForStatus("metrics-broken", {"dead"}).is_null());
  ASSERT_FALSE(WaitForStatus("metrics-invalid", {"dead"}).is_null());

  std::string text;
  // The last counts land just after the final state is written: poll briefly.
  for (int i = 0; i < 50; ++i) {
    auto res = Get("/metrics");
    ASSERT_TRUE(res) << "no answer on worker.metrics_port " << port_;
    EXPECT_EQ(res->status, 200);
    text = res->body;
    if (Contains(text, "kiln_dead_letters_total 2") && Contains(text, "kiln_jobs_in_progress 0")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"succeeded\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_total{status=\"dead\"} 2")) << text;
  EXPECT_TRUE(Contains(text, "kiln_dead_letters_total 2")) << text;
  EXPECT_TRUE(Contains(text, "kiln_jobs_in_progress 0")) << text;
  EXPECT_TRUE(Contains(text, "kiln_job_duration_seconds_count 2")) << text;
  EXPECT_TRUE(Contains(text, "kiln_step_duration_seconds_count{step=\"noop\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "kiln_step_retries_total 0")) << text;

  auto health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(WorkerMetricsTest, CacheSizesComeFromTheCachePlugin) {
  if (!std::filesystem::exists(std::filesystem::path(KILN_PLUGIN_DIR) / "cache.so")) {
    GTEST_SKIP() << "the cache plugin is not built (KILN_PLUGINS)";
  }
  // The worker's build cache with something in it: the cache plugin's stats see its areas.
  WriteFile(dir_.path() / "work" / "deps" / "npm" / "blob", std::string(4096, 'x'));
  StartWorker();
  std::string text;
  for (int i = 0; i < 100; ++i) {
    if (auto res = Get("/metrics")) {
      text = res->body;
      if (Contains(text, "kiln_cache_size_bytes{area=\"total\"}")) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(Contains(text, "# TYPE kiln_cache_size_bytes gauge")) << text;
  EXPECT_TRUE(Contains(text, "kiln_cache_size_bytes{area=\"total\"}")) << text;
  EXPECT_TRUE(Contains(text, "kiln_cache_size_bytes{area=\"npm\"}")) << text;
}

}  // namespace
}  // namespace testing
}  // namespace kiln
