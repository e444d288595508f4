// The worker's one way to publish a dead letter: one retry policy, on a thread of its own.
//
// Three paths dead-letter a message: a message that is no job (a slot), a job that died or
// timed out (a slot), and a message that used all its deliveries without an ack (the
// server's MAX_DELIVERIES advisory, in a NATS callback). None of them waits for NATS: each
// hands its letter over (Submit) and goes on, the slot to its next message, the callback to
// the next advisory. A slot blocked on a refused publish held back every job behind it;
// a callback blocked held back the connection's delivery of further advisories.
//
// The publisher tries a letter at once and, while NATS refuses it, again after the delays
// of DeadLetterRetry, each letter on its own schedule, until `give_up_after` from its
// hand-over. A letter's message (when it has one) gets in-progress acks while it waits, is
// acked once the letter is in, and is nak'ed when the publisher gives up, so that its
// next delivery dead-letters it again. Stop() tries each letter that was never tried once,
// gives up the rest and returns: shutdown never waits on a publish that cannot succeed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "transport/dead_letters.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

/// The one retry policy of dead letters: first_delay, doubling, capped at max_delay, for
/// give_up_after. While a NATS cluster elects a stream leader a publish fails for seconds.
struct DeadLetterRetry {
  std::chrono::milliseconds first_delay{250};
  std::chrono::milliseconds max_delay{4000};
  std::chrono::milliseconds give_up_after{30000};

  /// The wait after the `tries`-th failed try (1, 2, ...).
  std::chrono::milliseconds DelayAfter(int tries) const;
};

class DeadLetterPublisher {
 public:
  enum class Readiness {
    ready,  // publish the letter now
    later,  // not decided yet (NATS did not answer): ask again at the next try
    drop,   // nothing to dead-letter after all
  };
  struct Handoff {
    Handoff() = default;
    explicit Handoff(DeadLetter dead_letter, natsMsg* its_message = nullptr)
        : letter(std::move(dead_letter)), message(its_message) {}

    DeadLetter letter;
    /// Owned from Submit on (may be null): in progress while waiting, acked once the letter
    /// is in, nak'ed on giving up, destroyed either way.
    natsMsg* message = nullptr;
    /// Asked before each try until it answers `ready`; may fill in the letter; says why
    /// when it answers `later`. A dropped letter's message is destroyed, neither acked nor
    /// nak'ed.
    std::function<Readiness(DeadLetter&, std::string* why)> prepare;
    /// After the letter is in, before the message is acked.
    std::function<void(const DeadLetter&)> published;
    /// When the publisher gives up on it (not when `prepare` dropped it).
    std::function<void(const DeadLetter&, const std::string& last_error)> given_up;
  };

  /// `in_progress_every`: how often a waiting letter's message is marked in progress (a
  /// third of the consumer's ack wait).
  DeadLetterPublisher(NatsConnection& conn, DeadLetterRetry retry, std::chrono::milliseconds in_progress_every);
  ~DeadLetterPublisher();
  DeadLetterPublisher(const DeadLetterPublisher&) = delete;
  DeadLetterPublisher& operator=(const DeadLetterPublisher&) = delete;

  /// Returns at once; from any thread, NATS callbacks included. After Stop() the letter is
  /// given up at once.
  void Submit(Handoff handoff);
  /// See the file comment. Idempotent.
  void Stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Handoff handoff;
    Clock::time_point handed_over;
    Clock::time_point next_try;
    int tries = 0;
    bool prepared = false;
    std::string last_error;
  };
  enum class Outcome { published, dropped, failed };

  void Loop();
  Outcome Try(Pending& pending);
  void Finish(Pending& pending, Outcome outcome);
  void GiveUp(Pending& pending);

  NatsConnection& conn_;
  const DeadLetterRetry retry_;
  const std::chrono::milliseconds in_progress_every_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Pending> incoming_;  // handed over, not yet seen by the thread
  bool stopping_ = false;
  std::list<Pending> pending_;     // the thread's own
  std::thread thread_;
};

}  // namespace kiln
