#include "worker/dead_letter_publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace kiln {

std::chrono::milliseconds DeadLetterRetry::DelayAfter(int tries) const {
  auto delay = first_delay;
  for (int i = 1; i < tries && delay < max_delay; ++i) delay *= 2;
  return std::min(delay, max_delay);
}

DeadLetterPublisher::DeadLetterPublisher(NatsConnection& conn, DeadLetterRetry retry,
                                         std::chrono::milliseconds in_progress_every)
    : conn_(conn), retry_(retry), in_progress_every_(in_progress_every) {
  thread_ = std::thread([this] { Loop(); });
}

DeadLetterPublisher::~DeadLetterPublisher() { Stop(); }

void DeadLetterPublisher::Submit(Handoff handoff) {
  const auto now = Clock::now();
  Pending pending;
  pending.handoff = std::move(handoff);
  pending.handed_over = now;
  pending.next_try = now;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      incoming_.push_back(std::move(pending));
      wake_.notify_one();
      return;
    }
  }
  pending.last_error = "the worker is stopping";
  GiveUp(pending);
}

void DeadLetterPublisher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void DeadLetterPublisher::Loop() {
  auto next_beat = Clock::now() + in_progress_every_;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      auto wake_at = next_beat;
      for (const auto& pending : pending_) wake_at = std::min(wake_at, pending.next_try);
      wake_.wait_until(lock, wake_at, [this] { return stopping_ || !incoming_.empty(); });
      for (auto& pending : incoming_) pending_.push_back(std::move(pending));
      incoming_.clear();
      if (stopping_) break;
    }
    const auto now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->next_try > now) {
        ++it;
        continue;
      }
      const Outcome outcome = Try(*it);
      if (outcome != Outcome::failed) {
        Finish(*it, outcome);
        it = pending_.erase(it);
        continue;
      }
      it->next_try = Clock::now() + retry_.DelayAfter(it->tries);
      if (it->next_try - it->handed_over > retry_.give_up_after) {
        GiveUp(*it);
        it = pending_.erase(it);
        continue;
      }
      ++it;
    }
    if (Clock::now() >= next_beat) {
      // A waiting letter's message must not go to another worker meanwhile.
      for (const auto& pending : pending_) {
        if (pending.handoff.message != nullptr) natsMsg_InProgress(pending.handoff.message, nullptr);
      }
      next_beat = Clock::now() + in_progress_every_;
    }
  }
  // Stopping: a letter handed over just now gets its one try; the others had theirs.
  for (auto& pending : pending_) {
    const Outcome outcome = pending.tries == 0 ? Try(pending) : Outcome::failed;
    if (outcome == Outcome::failed) {
      if (pending.last_error.empty()) pending.last_error = "the worker is stopping";
      GiveUp(pending);
    } else {
      Finish(pending, outcome);
    }
  }
  pending_.clear();
}

DeadLetterPublisher::Outcome DeadLetterPublisher::Try(Pending& pending) {
  ++pending.tries;
  Handoff& handoff = pending.handoff;
  if (!pending.prepared && handoff.prepare) {
    std::string why;
    switch (handoff.prepare(handoff.letter, &why)) {
      case Readiness::ready: break;
      case Readiness::drop: return Outcome::dropped;
      case Readiness::later: pending.last_error = why; return Outcome::failed;
    }
    pending.prepared = true;
  }
  auto published = PublishDeadLetter(conn_, handoff.letter);
  if (!published) {
    pending.last_error = published.error();
    if (pending.tries == 1) spdlog::warn("{}; trying again", published.error());
    return Outcome::failed;
  }
  return Outcome::published;
}

void DeadLetterPublisher::Finish(Pending& pending, Outcome outcome) {
  Handoff& handoff = pending.handoff;
  if (outcome == Outcome::published && handoff.published) handoff.published(handoff.letter);
  if (handoff.message != nullptr) {
    if (outcome == Outcome::published) {
      if (natsStatus s = natsMsg_Ack(handoff.message, nullptr); s != NATS_OK) {
        // Harmless: its redelivery finds the job dead and publishes the letter again, which
        // BUILDS_DLQ drops as a repeat (Nats-Msg-Id dlq-<seq>).
        spdlog::warn("ack of dead-lettered message {} failed: {}", handoff.letter.stream_seq, NatsError(s));
      }
    }
    natsMsg_Destroy(handoff.message);
    handoff.message = nullptr;
  }
}

void DeadLetterPublisher::GiveUp(Pending& pending) {
  Handoff& handoff = pending.handoff;
  const double waited = std::chrono::duration<double>(Clock::now() - pending.handed_over).count();
  spdlog::error("dead letter of message {} (job '{}'): giving up after {} tries in {:.1f} s: {}",
                handoff.letter.stream_seq, handoff.letter.job_id, pending.tries, waited, pending.last_error);
  if (handoff.given_up) handoff.given_up(handoff.letter, pending.last_error);
  if (handoff.message != nullptr) {
    natsMsg_Nak(handoff.message, nullptr);  // its next delivery dead-letters it again
    natsMsg_Destroy(handoff.message);
    handoff.message = nullptr;
  }
}

}  // namespace kiln
