// Issue 20, item 3: a step may return up to 16 MiB of outputs, but a NATS message holds at
// most the server's max_payload (1 MiB by default), and a job's state and its events are
// each one message. A step returning 2 MiB had its step.finished refused, the job stayed
// "running" after it ended, Finish retried for 5 minutes and shutdown hung until SIGKILL.
// Now: outputs that do not fit fail their step (terminal, naming size and limit); anything
// else too big is shrunk to fit; the worker stops at once. Run against real nats-servers,
// one with the default max_payload and one with a smaller one.
#include "transport/log_reader.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

// A step returning `kib` KiB of outputs, then a step after it.
std::string ReturningKib(int kib) {
  return "kiln.step('big', function() return { data = string.rep('x', " + std::to_string(kib) +
         " * 1024) } end)\n"
         "kiln.step('after', function() return { ok = true } end)\n";
}

void ExpectStopsPromptly(KilnProcess& worker) {
  worker.Signal(SIGTERM);
  // The grace is 10 s; the hang this guards against was 5 minutes, then SIGKILL.
  EXPECT_EQ(worker.Wait(std::chrono::seconds(20)), 0) << "the worker exits on SIGTERM, cleanly";
}

TEST_F(WorkerTest, TwoMibOfOutputsFailTheStepWithTheDefaultMaxPayload) {
  WorkerSettings settings;
  settings.max_retries = 0;
  WriteConfig(settings);
  WritePipeline("two_mib", ReturningKib(2048));
  KilnProcess& worker = StartWorker();
  PublishJob("payload-1", "two_mib");
  auto state = WaitForStatus("payload-1", {"failed", "dead", "succeeded"});
  ASSERT_FALSE(state.is_null());
  EXPECT_NE(state["status"], "succeeded") << state.dump().substr(0, 2000);
  ASSERT_EQ(state["steps"].size(), 1u) << "the step after it never ran";
  EXPECT_EQ(state["steps"][0]["status"], "terminal");
  const std::string error = state["steps"][0].value("error", "");
  EXPECT_NE(error.find("outputs of 2097163 bytes"), std::string::npos) << error;
  EXPECT_NE(error.find("max_payload is 1048576 bytes"), std::string::npos) << error;
  auto events = Events("payload-1");
  EXPECT_EQ(Count(events, "step.finished"), 1);
  ExpectStopsPromptly(worker);
}

class SmallMaxPayload : public WorkerTest {
 protected:
  static constexpr int kMaxPayload = 64 * 1024;

  void SetUp() override {
    WorkerTest::SetUp();
    WriteFile(dir_.path() / "nats-small.conf", "max_payload: " + std::to_string(kMaxPayload) + "\n");
    small_ = std::make_unique<NatsServer>(std::vector<std::string>{"-c", (dir_.path() / "nats-small.conf").string()});
    NatsConfig nats;
    nats.url = small_->url();
    nats.reconnect_wait = std::chrono::milliseconds(250);
    auto conn = NatsConnection::Connect(nats, "small payload test", nullptr);
    ASSERT_TRUE(conn.ok()) << conn.error();
    ASSERT_EQ(conn.value()->max_payload(), static_cast<std::size_t>(kMaxPayload)) << "the server took the option";
    client_ = std::move(conn.value());
    auto streams = EnsureStreams(*client_, nats);
    ASSERT_TRUE(streams.ok()) << streams.error();
    WorkerSettings settings;
    settings.max_retries = 0;
    settings.nats_url = small_->url();
    WriteConfig(settings);
  }
  void TearDown() override {
    WorkerTest::TearDown();  // the workers and the client go first
    small_.reset();
  }

  /// The stored text of every revision of a job's state.
  std::vector<std::string> StateRevisions(const std::string& id) {
    std::vector<std::string> out;
    kvEntryList list{nullptr, 0};
    if (kvStore_History(&list, client_->builds_kv(), id.c_str(), nullptr) != NATS_OK) return out;
    for (int i = 0; i < list.Count; ++i) {
      out.emplace_back(static_cast<const char*>(kvEntry_Value(list.Entries[i])),
                       static_cast<std::size_t>(kvEntry_ValueLen(list.Entries[i])));
    }
    kvEntryList_Destroy(&list);
    return out;
  }

  std::unique_ptr<NatsServer> small_;
};

TEST_F(SmallMaxPayload, OutputsThatFitPassAndOnesThatDoNotFailTheirStep) {
  WritePipeline("fits", ReturningKib(8));
  WritePipeline("too_big", ReturningKib(40));
  KilnProcess& worker = StartWorker();
  PublishJob("small-fits", "fits");
  PublishJob("small-too-big", "too_big");
  auto fits = WaitForStatus("small-fits", {"succeeded", "failed", "dead"});
  ASSERT_FALSE(fits.is_null());
  EXPECT_EQ(fits["status"], "succeeded") << fits.dump().substr(0, 2000);
  EXPECT_EQ(fits["steps"][0]["outputs"]["data"].get<std::string>().size(), 8u * 1024);

  auto too_big = WaitForStatus("small-too-big", {"succeeded", "failed", "dead"});
  ASSERT_FALSE(too_big.is_null());
  EXPECT_NE(too_big["status"], "succeeded");
  ASSERT_EQ(too_big["steps"].size(), 1u) << too_big.dump().substr(0, 2000);
  const std::string error = too_big["steps"][0].value("error", "");
  EXPECT_NE(error.find("outputs of 40971 bytes"), std::string::npos) << error;
  EXPECT_NE(error.find("max_payload is 65536 bytes"), std::string::npos) << error;
  ExpectStopsPromptly(worker);
}

TEST_F(SmallMaxPayload, ManySmallOutputsAddUpAndFailTheStepThatPassesTheLimit) {
  WritePipeline("many", "for i = 1, 10 do kiln.step('s' .. i, function() return { d = string.rep('y', 6000) } end) end\n");
  StartWorker();
  PublishJob("small-many", "many");
  auto state = WaitForStatus("small-many", {"succeeded", "failed", "dead"});
  ASSERT_FALSE(state.is_null());
  EXPECT_NE(state["status"], "succeeded");
  ASSERT_GE(state["steps"].size(), 2u) << state.dump().substr(0, 2000);
  EXPECT_EQ(state["steps"][0]["status"], "ok");
  EXPECT_EQ(state["steps"].back()["status"], "terminal");
  EXPECT_NE(state["steps"].back().value("error", "").find("used by earlier steps"), std::string::npos);
}

TEST_F(SmallMaxPayload, AResultOrLogLineOverTheLimitIsShrunkAndTheJobEnds) {
  // Not a step's outputs: the script's result and a log line. Neither may be refused by the
  // server, so the worker shrinks what it sends, and the job's end is recorded.
  WritePipeline("big_result", "kiln.log(string.rep('l', 100 * 1024))\nreturn { data = string.rep('r', 100 * 1024) }\n");
  KilnProcess& worker = StartWorker();
  PublishJob("small-result", "big_result");
  auto state = WaitForStatus("small-result", {"succeeded", "failed", "dead"});
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["status"], "succeeded") << state.dump().substr(0, 2000);
  EXPECT_NE(state.value("outputs_dropped", "").find("bytes of outputs dropped to fit one NATS message"),
            std::string::npos)
      << state.dump().substr(0, 2000);
  for (const std::string& revision : StateRevisions("small-result")) EXPECT_LE(revision.size(), 64u * 1024);
  auto events = Events("small-result");
  EXPECT_EQ(Count(events, "job.succeeded"), 1);
  for (const auto& event : events) EXPECT_LE(event.dump().size(), 64u * 1024);
  // The log line is no event: it is in stream BUILD_LOGS, whole, in chunks that fit.
  std::string log;
  auto end = ReadLog(*client_, "small-result", {}, [&](const LogPiece& piece) {
    log += piece.chunk.text;
    return true;
  });
  ASSERT_TRUE(end.ok()) << end.error();
  EXPECT_EQ(log, std::string(100 * 1024, 'l') + "\n") << "the long log line arrived whole";
  ExpectStopsPromptly(worker);
}

}  // namespace
}  // namespace kiln::testing
