// The slot pool: one fetch thread pulls as many messages as there are free slots, the slot
// threads run one each, and the heartbeat keeps the running ones' messages and leases alive.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "worker/running_job.hpp"
#include "worker/worker.hpp"

namespace kiln {

namespace {

using SlotClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long one pull request waits on the server for messages.
constexpr milliseconds kFetchWait{1000};

}  // namespace

void Worker::FetchLoop() {
  // libnats 3.4.1 may answer every Fetch after a first timeout with an immediate timeout
  // (nats.c issue 631): a fetch that comes back early and empty backs off, so the loop never
  // spins.
  milliseconds backoff{50};
  while (!stopping()) {
    int free_slots = 0;
    {
      std::unique_lock lock(mutex_);
      slot_free_.wait(lock, [this] { return stopping() || busy_ < config_.worker.pool_size; });
      if (stopping()) break;
      free_slots = config_.worker.pool_size - busy_;
    }
    natsMsgList list{nullptr, 0};
    jsErrCode code = static_cast<jsErrCode>(0);
    auto started = SlotClock::now();
    natsStatus s = natsSubscription_Fetch(&list, pull_, free_slots, kFetchWait.count(), &code);
    auto took = std::chrono::duration_cast<milliseconds>(SlotClock::now() - started);
    if (s == NATS_OK && list.Count > 0) {
      backoff = milliseconds(50);
      std::unique_lock lock(mutex_);
      for (int i = 0; i < list.Count; ++i) {
        ready_.push_back(list.Msgs[i]);
        list.Msgs[i] = nullptr;  // owned by the slot now
        ++busy_;
      }
      lock.unlock();
      // One idle slot per message: waking them all would cost a futex round per slot per job.
      for (int i = 0; i < list.Count; ++i) message_ready_.notify_one();
      natsMsgList_Destroy(&list);
      continue;
    }
    if (s == NATS_OK) natsMsgList_Destroy(&list);
    if (s == NATS_TIMEOUT && took >= kFetchWait / 2) {
      backoff = milliseconds(50);  // a normal, full-length empty poll
      continue;
    }
    if (s != NATS_TIMEOUT) spdlog::debug("worker {}: fetch: {}", worker_id_, NatsError(s));
    SleepUnlessStopping(backoff);
    backoff = std::min(backoff * 2, milliseconds(1000));
  }
}

void Worker::SlotLoop() {
  while (true) {
    natsMsg* msg = nullptr;
    {
      std::unique_lock lock(mutex_);
      message_ready_.wait(lock, [this] { return !ready_.empty() || stopping(); });
      if (ready_.empty()) return;  // stopping, and nothing fetched is left
      msg = ready_.front();
      ready_.pop_front();
    }
    if (stopping() && shutting_down_jobs_.load()) {
      natsMsg_Nak(msg, nullptr);  // fetched but not started: give it back
      natsMsg_Destroy(msg);
    } else {
      try {
        Process(msg);
      } catch (const std::exception& e) {
        spdlog::error("worker {}: unexpected error while processing a message: {}", worker_id_, e.what());
      }
    }
    bool drained = false;
    {
      std::lock_guard lock(mutex_);
      --busy_;
      drained = stopping() && busy_ == 0;
    }
    slot_free_.notify_one();
    if (drained) cv_.notify_all();  // Wait() and the heartbeat wait for the last job when stopping
  }
}

void Worker::HeartbeatLoop() {
  // Every 250 ms: coalesced state writes. Every third of the ack wait: in-progress acks and
  // the lease check.
  const auto tick = milliseconds(250);
  const auto beat = std::max(milliseconds(500), config_.worker.ack_wait / 3);
  auto next_beat = SlotClock::now() + beat;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, tick, [this] { return stopping() && busy_ == 0; })) return;
    }
    const bool beating = SlotClock::now() >= next_beat;
    if (beating) next_beat = SlotClock::now() + beat;
    std::vector<std::shared_ptr<RunningJob>> jobs;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, job] : running_) {
        // Under the lock: a slot removes its job before acking, so the message is live here.
        if (beating) natsMsg_InProgress(job->msg, nullptr);
        jobs.push_back(job);
      }
    }
    for (auto& job : jobs) {
      if (beating) job->sink->Heartbeat();
      else job->sink->FlushIfDue();
    }
  }
}

}  // namespace kiln
