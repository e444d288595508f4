// Issue 8: "a schedule firing once with two workers". Two workers, each as `kiln worker`
// composes it (engine, its own NATS connection, Worker, Scheduler beside it), against a real
// nats-server, with a schedule "* * * * *". Their schedulers share a clock the test moves,
// so three minutes of ticks take a second; both fire every tick at the same moment, and
// exactly one job per tick reaches BUILDS, the KV bucket, and a run.
#include "schedule/scheduler.hpp"

#include <condition_variable>
#include <mutex>
#include <set>

#include "app/engine_context.hpp"
#include "job/job_runner.hpp"
#include "worker/worker.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono;
using TimePoint = CronExpression::TimePoint;

TimePoint At(int h, int mi, int s = 0) { return sys_days(year(2026) / 11 / 23) + hours(h) + minutes(mi) + seconds(s); }

/// A clock that stands still until the test sets it. Counts the sleepers waiting for a time
/// still to come, so the test knows when every scheduler is done with a tick.
class ManualClock final : public ScheduleClock {
 public:
  explicit ManualClock(TimePoint now) : now_(now) {}
  TimePoint Now() override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  bool SleepUntil(TimePoint t, std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    auto it = targets_.insert(t);
    cv_.notify_all();
    const bool reached = cv_.wait(lock, stop, [&] { return now_ >= t; });
    targets_.erase(it);
    return reached;
  }
  void Set(TimePoint t) {
    std::lock_guard lock(mutex_);
    now_ = t;
    cv_.notify_all();
  }
  /// Waits until `n` sleepers wait for a time after now (each scheduler has fired what was due).
  bool WaitForSleepers(std::size_t n, milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] {
      return static_cast<std::size_t>(std::distance(targets_.upper_bound(now_), targets_.end())) >= n;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any cv_;
  TimePoint now_;
  std::multiset<TimePoint> targets_;
};

/// One worker as `kiln worker` composes it, in this process.
struct InProcessWorker {
  InProcessWorker(const std::string& config_path, const std::string& id, ScheduleClock& clock) {
    GlobalOptions options;
    options.config_path = config_path;
    auto set_up = SetUpEngine(options, EngineSetup{});
    if (!set_up) throw std::runtime_error(set_up.error());
    engine = std::move(set_up).value();
    auto connected = NatsConnection::Connect(engine->config.nats, "schedule test " + id, &engine->redactor);
    if (!connected) throw std::runtime_error(connected.error());
    conn = std::move(connected).value();
    JobRunnerDeps deps;
    deps.config = &engine->config;
    deps.plugins = engine->plugins.get();
    deps.secrets = engine->secrets.get();
    deps.redactor = &engine->redactor;
    deps.worker_id = id;
    runner = std::make_unique<JobRunner>(deps);
    worker = std::make_unique<Worker>(engine->config, *conn, *runner, id);
    if (auto started = worker->Start(); !started) throw std::runtime_error(started.error());
    scheduler = std::make_unique<Scheduler>(engine->config.schedules, *conn, clock, id);
    scheduler->Start();
  }
  ~InProcessWorker() {
    scheduler->Stop();
    worker->RequestStop();
    worker->Wait();
  }

  std::unique_ptr<EngineContext> engine;
  std::unique_ptr<NatsConnection> conn;
  std::unique_ptr<JobRunner> runner;
  std::unique_ptr<Worker> worker;
  std::unique_ptr<Scheduler> scheduler;
};

class ScheduleTest : public WorkerTest {
 protected:
  void AddSchedule(const std::string& name, const std::string& cron, const std::string& pipeline) {
    std::string yaml = ReadFile(config_path());
    yaml += "schedules:\n  - name: " + name + "\n    cron: \"" + cron + "\"\n" +
            "    job: { repo: { url: \"https://example.invalid/acme/shop.git\" }, commit: \"" + kCommit +
            "\", branch: main, pipeline: " + pipeline + " }\n";
    WriteFile(config_path(), yaml);
  }

  std::vector<std::string> KeysWithPrefix(const std::string& prefix) {
    std::vector<std::string> out;
    kvKeysList list{};
    if (kvStore_Keys(&list, client_->builds_kv(), nullptr) != NATS_OK) return out;
    for (int i = 0; i < list.Count; ++i) {
      std::string key = list.Keys[i];
      if (key.rfind(prefix, 0) == 0) out.push_back(key);
    }
    kvKeysList_Destroy(&list);
    return out;
  }

  /// Messages BUILDS ever accepted: its last sequence (a repeat dropped as a duplicate takes none).
  std::uint64_t JobsEverAccepted() {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, client_->js(), subjects::kJobsStream, nullptr, nullptr) != NATS_OK) return ~0ull;
    std::uint64_t n = info->State.LastSeq;
    jsStreamInfo_Destroy(info);
    return n;
  }
};

TEST(SchedulerTickId, NameAndTickTimeToTheMinute) {
  EXPECT_EQ(Scheduler::TickJobId("nightly", At(2, 0)), "schedule-nightly-20261123T0200Z");
  EXPECT_EQ(Scheduler::TickJobId("every-minute", At(23, 59)), "schedule-every-minute-20261123T2359Z");
  EXPECT_TRUE(IsValidJobId(Scheduler::TickJobId(std::string(64, 'a'), At(0, 0))));
}

TEST_F(ScheduleTest, EachTickRunsOnceWithTwoWorkers) {
  AddSchedule("every-minute", "* * * * *", "noop");
  ManualClock clock(At(10, 0, 30));
  const auto wait = seconds(20);
  std::vector<std::string> expected;
  {
    InProcessWorker first(config_path(), "w1", clock);
    InProcessWorker second(config_path(), "w2", clock);
    ASSERT_TRUE(clock.WaitForSleepers(2, wait)) << "the schedulers did not start";
    for (int minute = 1; minute <= 3; ++minute) {
      // Both workers see the tick at the same moment and publish it at once.
      clock.Set(At(10, minute));
      expected.push_back("schedule-every-minute-20261123T10" + std::string(minute < 10 ? "0" : "") +
                         std::to_string(minute) + "Z");
      ASSERT_TRUE(clock.WaitForSleepers(2, wait)) << "a scheduler did not finish tick " << minute;
    }
    for (const std::string& id : expected) {
      auto state = WaitForStatus(id, {"succeeded"});
      ASSERT_FALSE(state.is_null()) << id;
      EXPECT_EQ(state["pipeline"], "noop");
      EXPECT_EQ(state["commit"], kCommit);
    }
  }
  // Three ticks: three messages accepted by BUILDS (the second worker's publishes were
  // dropped as duplicates), three KV entries, each job queued, started and finished once.
  EXPECT_EQ(JobsEverAccepted(), 3u);
  EXPECT_EQ(JobsInQueue(), 0u);
  auto keys = KeysWithPrefix("schedule-every-minute-");
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, expected);
  for (const std::string& id : expected) {
    auto events = Events(id);
    EXPECT_EQ(Count(events, "job.queued"), 1) << id;
    EXPECT_EQ(Count(events, "job.started"), 1) << id;
    EXPECT_EQ(Count(events, "job.succeeded"), 1) << id;
  }
}

TEST_F(ScheduleTest, ALateWorkerDoesNotFireAgainAndAStartAfterTheTickWaitsForTheNext) {
  AddSchedule("nightly", "0 2 * * *", "noop");
  // One worker fires 02:00 on time; the other's clock is 40 s behind (still within the
  // late limit when it sees the tick): the job id and the duplicate window make it one job.
  ManualClock on_time(At(1, 59, 50));
  ManualClock behind(At(1, 59, 10));
  InProcessWorker first(config_path(), "w1", on_time);
  InProcessWorker second(config_path(), "w2", behind);
  ASSERT_TRUE(on_time.WaitForSleepers(1, seconds(20)));
  ASSERT_TRUE(behind.WaitForSleepers(1, seconds(20)));
  on_time.Set(At(2, 0, 1));
  ASSERT_TRUE(on_time.WaitForSleepers(1, seconds(20)));
  ASSERT_FALSE(WaitForStatus("schedule-nightly-20261123T0200Z", {"succeeded"}).is_null());
  behind.Set(At(2, 0, 41));
  ASSERT_TRUE(behind.WaitForSleepers(1, seconds(20)));
  EXPECT_EQ(JobsEverAccepted(), 1u);
  EXPECT_EQ(Count(Events("schedule-nightly-20261123T0200Z"), "job.started"), 1);

  // A worker started at 02:00:30 does not fire 02:00 (the running ones did).
  ManualClock late_start(At(2, 0, 30));
  InProcessWorker third(config_path(), "w3", late_start);
  ASSERT_TRUE(late_start.WaitForSleepers(1, seconds(20)));
  EXPECT_EQ(JobsEverAccepted(), 1u);
}

TEST_F(ScheduleTest, KilnWorkerRunsTheConfigsSchedules) {
  // The command's wiring: a real `kiln worker` announces each schedule's next tick (UTC).
  AddSchedule("nightly", "0 2 * * *", "noop");
  KilnProcess& worker = StartWorker();
  // The worker is up once the shared consumer exists; its log reaches the file at exit
  // (stdout to a file is block-buffered), so stop it and read the log then.
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    jsConsumerInfo* info = nullptr;
    started = js_GetConsumerInfo(&info, client_->js(), subjects::kJobsStream, subjects::kConsumer, nullptr, nullptr) ==
              NATS_OK;
    if (info) jsConsumerInfo_Destroy(info);
    if (!started) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(started) << "the worker did not start";
  std::this_thread::sleep_for(milliseconds(500));
  worker.Signal(SIGTERM);
  ASSERT_EQ(worker.Wait(seconds(30)), 0);
  const std::string log = ReadFile(worker.log());
  EXPECT_NE(log.find("schedule nightly: '0 2 * * *' (UTC), next tick "), std::string::npos) << log;
  EXPECT_NE(log.find("T02:00:00Z"), std::string::npos) << log;
}

}  // namespace
}  // namespace kiln::testing
