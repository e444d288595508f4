// Dead letters while NATS refuses them (the dead-letter stream taken away, then given back):
// no slot and no NATS callback waits on them, and each goes in once NATS takes it again.
#include "worker_fixture.hpp"

namespace kiln::testing {
namespace {

using std::chrono::seconds;

class DeadLetterTest : public WorkerTest {
 protected:
  void RefuseDeadLetters() {
    jsErrCode code = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_DeleteStream(client_->js(), subjects::kDeadLetterStream, nullptr, &code), NATS_OK);
  }
  void AcceptDeadLetters() {
    NatsConfig nats;
    nats.url = server_.url();
    ASSERT_TRUE(EnsureStreams(*client_, nats).ok());
  }
  // A worker sets up the streams as it starts (BUILDS_DLQ too): refuse after that.
  static bool WaitUntilServing(const KilnProcess& worker) {
    for (int i = 0; i < 300; ++i) {
      if (std::filesystem::exists(worker.log()) && ReadFile(worker.log()).find("serving") != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::vector<DeadLetter> WaitForDeadLetters(std::size_t count, seconds timeout) {
    std::vector<DeadLetter> letters;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      letters = DeadLetters();
      if (letters.size() >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return letters;
  }
};

TEST_F(DeadLetterTest, AMessageThatIsNoJobDoesNotHoldUpTheNextJobWhileNatsRefusesItsLetter) {
  WorkerSettings settings;
  settings.pool_size = 1;  // one slot: a slot that waits holds up everything
  WriteConfig(settings);
  StartWorker();
  PublishJob("warm-up", "noop");
  ASSERT_FALSE(WaitForStatus("warm-up", {"succeeded"}).is_null());
  RefuseDeadLetters();

  PublishRaw("this is not a job");
  PublishJob("after-the-bad-one", "noop");
  // The slot hands the letter over and takes the next message (it used to retry the
  // publish itself, 20 times 500 ms, first).
  ASSERT_FALSE(WaitForStatus("after-the-bad-one", {"succeeded"}, seconds(6)).is_null());
  EXPECT_TRUE(DeadLetters().empty());

  AcceptDeadLetters();
  auto letters = WaitForDeadLetters(1, seconds(20));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].reason.find("invalid message"), std::string::npos) << letters[0].reason;
  EXPECT_EQ(letters[0].body, "this is not a job");
  EXPECT_EQ(letters[0].attempts, 1);  // one delivery: the publisher waited for NATS, not a redelivery
  EXPECT_EQ(JobsLeftInQueue(), 0u);
}

TEST_F(DeadLetterTest, AMessageThatUsedUpItsDeliveriesIsDeadLetteredOnceNatsTakesTheLetterAgain) {
  WorkerSettings settings;
  settings.max_retries = 0;  // one delivery
  settings.ack_wait = "2s";
  WriteConfig(settings);
  // Two workers, so one is surely listening for the advisory when the other is killed.
  KilnProcess* workers[2] = {&StartWorker(), &StartWorker()};
  for (KilnProcess* w : workers) ASSERT_TRUE(WaitUntilServing(*w)) << ReadFile(w->log());
  PublishJob("refused-letter", "sleep60");
  auto running = WaitForStatus("refused-letter", {"running"});
  ASSERT_FALSE(running.is_null());
  const std::string runner = running.value("worker", "");
  KilnProcess* victim = nullptr;
  for (KilnProcess* w : workers) {
    if (runner.substr(runner.rfind('-') + 1) == std::to_string(w->pid())) victim = w;
  }
  ASSERT_NE(victim, nullptr) << runner;
  RefuseDeadLetters();
  victim->Signal(SIGKILL);
  EXPECT_EQ(victim->Wait(seconds(10)), 128 + SIGKILL);

  // The advisory's handler decides the job's state at once, letter or not...
  auto state = WaitForStatus("refused-letter", {"dead"}, seconds(60));
  ASSERT_FALSE(state.is_null());
  std::this_thread::sleep_for(seconds(2));
  // ...and keeps the message in BUILDS while NATS refuses its letter (it used to try once
  // and leave it there for ever).
  EXPECT_EQ(JobsInQueue(), 1u);
  AcceptDeadLetters();
  auto letters = WaitForDeadLetters(1, seconds(20));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].job_id, "refused-letter");
  EXPECT_NE(letters[0].reason.find("max deliveries"), std::string::npos) << letters[0].reason;
  EXPECT_EQ(JobsLeftInQueue(), 0u);
}

}  // namespace
}  // namespace kiln::testing
