// The worker's one dead-letter publisher, in process, against a real nats-server whose
// dead-letter stream is taken away (NATS refuses every letter) and given back.
#include "worker/dead_letter_publisher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/nats_server.hpp"
#include "transport/jetstream_setup.hpp"

namespace kiln::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class DeadLetterPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_.url = server_.url();
    auto conn = NatsConnection::Connect(nats_, "dead letter test", nullptr);
    ASSERT_TRUE(conn.ok()) << conn.error();
    conn_ = std::move(conn.value());
    ASSERT_TRUE(EnsureStreams(*conn_, nats_).ok());
  }
  void RefuseDeadLetters() {
    jsErrCode code = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_DeleteStream(conn_->js(), subjects::kDeadLetterStream, nullptr, &code), NATS_OK);
  }
  void AcceptDeadLetters() { ASSERT_TRUE(EnsureStreams(*conn_, nats_).ok()); }
  std::size_t LettersIn() {
    auto letters = ListDeadLetters(*conn_);
    return letters.ok() ? letters->size() : 0;
  }
  static DeadLetter Letter(std::uint64_t seq) {
    DeadLetter letter;
    letter.job_id = "job-" + std::to_string(seq);
    letter.reason = "terminal failure";
    letter.stream_seq = seq;
    letter.body = "{}";
    return letter;
  }
  template <typename Predicate>
  static bool WaitFor(Predicate done, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
  }

  NatsServer server_;
  NatsConfig nats_;
  std::unique_ptr<NatsConnection> conn_;
};

TEST_F(DeadLetterPublisherTest, HandingOverNeverWaitsAndEveryLetterGoesInOnceNatsTakesItAgain) {
  DeadLetterPublisher publisher(*conn_, DeadLetterRetry{}, milliseconds(1000));
  RefuseDeadLetters();
  std::atomic<int> published{0};
  const auto started = Clock::now();
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    DeadLetterPublisher::Handoff handoff{Letter(seq)};
    handoff.published = [&](const DeadLetter&) { ++published; };
    publisher.Submit(std::move(handoff));
  }
  // What a NATS callback or a slot pays: no publish, no wait.
  EXPECT_LT(Clock::now() - started, milliseconds(50));
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(published.load(), 0);
  AcceptDeadLetters();
  EXPECT_TRUE(WaitFor([&] { return published.load() == 5; }, milliseconds(10000))) << published.load();
  EXPECT_EQ(LettersIn(), 5u);
}

TEST_F(DeadLetterPublisherTest, OneRetryPolicyThenGivingUp) {
  DeadLetterRetry retry;
  retry.first_delay = milliseconds(100);
  retry.max_delay = milliseconds(400);
  retry.give_up_after = milliseconds(2000);
  EXPECT_EQ(retry.DelayAfter(1), milliseconds(100));
  EXPECT_EQ(retry.DelayAfter(2), milliseconds(200));
  EXPECT_EQ(retry.DelayAfter(3), milliseconds(400));
  EXPECT_EQ(retry.DelayAfter(9), milliseconds(400));
  EXPECT_EQ(DeadLetterRetry{}.give_up_after, milliseconds(30000));

  DeadLetterPublisher publisher(*conn_, retry, milliseconds(1000));
  RefuseDeadLetters();
  std::atomic<int> tries{0};
  std::atomic<bool> gave_up{false};
  std::string last_error;
  Clock::duration gave_up_after{};
  const auto started = Clock::now();
  DeadLetterPublisher::Handoff handoff{Letter(7)};
  handoff.prepare = [&](DeadLetter&, std::string*) {
    ++tries;  // asked until it answers `ready`: once
    return DeadLetterPublisher::Readiness::ready;
  };
  handoff.given_up = [&](const DeadLetter&, const std::string& error) {
    last_error = error;
    gave_up_after = Clock::now() - started;
    gave_up = true;
  };
  publisher.Submit(std::move(handoff));
  ASSERT_TRUE(WaitFor([&] { return gave_up.load(); }, milliseconds(6000)));
  // Tries at 0, 0.1, 0.3, 0.7, 1.1, 1.5, 1.9 s; the next would pass 2 s.
  EXPECT_GE(gave_up_after, milliseconds(1500));
  EXPECT_LT(gave_up_after, milliseconds(3000));
  EXPECT_EQ(tries.load(), 1);
  EXPECT_NE(last_error.find("dead letter for job job-7"), std::string::npos) << last_error;
  AcceptDeadLetters();
  EXPECT_EQ(LettersIn(), 0u);
}

TEST_F(DeadLetterPublisherTest, APreparationThatIsNotReadyIsAskedAgainUnderTheSamePolicy) {
  DeadLetterRetry retry;
  retry.first_delay = milliseconds(100);
  retry.max_delay = milliseconds(100);
  retry.give_up_after = milliseconds(10000);
  DeadLetterPublisher publisher(*conn_, retry, milliseconds(1000));
  std::atomic<int> asked{0};
  std::atomic<bool> published{false};
  DeadLetterPublisher::Handoff handoff{Letter(8)};
  handoff.prepare = [&](DeadLetter& letter, std::string* why) {
    if (++asked < 4) {
      *why = "its state is not readable yet";
      return DeadLetterPublisher::Readiness::later;
    }
    letter.error = "filled in by prepare";
    return DeadLetterPublisher::Readiness::ready;
  };
  handoff.published = [&](const DeadLetter&) { published = true; };
  publisher.Submit(std::move(handoff));
  ASSERT_TRUE(WaitFor([&] { return published.load(); }, milliseconds(5000)));
  EXPECT_EQ(asked.load(), 4);
  auto letters = ListDeadLetters(*conn_);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ(letters->at(0).error, "filled in by prepare");
}

TEST_F(DeadLetterPublisherTest, StopDoesNotWaitOnAPublishThatCannotSucceed) {
  auto publisher = std::make_unique<DeadLetterPublisher>(*conn_, DeadLetterRetry{}, milliseconds(1000));
  RefuseDeadLetters();
  std::atomic<int> gave_up{0};
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    DeadLetterPublisher::Handoff handoff{Letter(seq)};
    handoff.given_up = [&](const DeadLetter&, const std::string&) { ++gave_up; };
    publisher->Submit(std::move(handoff));
  }
  std::this_thread::sleep_for(milliseconds(500));  // each tried and refused
  const auto started = Clock::now();
  publisher->Stop();
  EXPECT_LT(Clock::now() - started, milliseconds(2000));
  EXPECT_EQ(gave_up.load(), 3);
  // A hand-over after Stop is given up at once, on the caller's thread.
  DeadLetterPublisher::Handoff late{Letter(4)};
  late.given_up = [&](const DeadLetter&, const std::string&) { ++gave_up; };
  publisher->Submit(std::move(late));
  EXPECT_EQ(gave_up.load(), 4);
}

}  // namespace
}  // namespace kiln::testing
