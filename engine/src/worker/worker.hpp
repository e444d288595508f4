// `kiln worker`: serves jobs from the durable pull consumer kiln-workers until stopped.
//
// One fetch thread pulls only as many messages as there are free slots (so no job waits in
// this worker's memory while another worker could run it); worker.pool_size slot threads
// run one job each through the JobRunner; a heartbeat thread sends in-progress acks every
// third of the ack wait and checks each running job still owns its KV entry.
//
// A message's life (DESIGN.md, issue 7):
//   invalid                      -> dead letter (reason) + ack
//   KV state terminal            -> ack, not run (a duplicate, or already done)
//   claimed by KV compare-and-set (worker, attempt = delivery count) -> run from the start
//   succeeded / cancelled        -> final state, terminal event, ack
//   retryable failure, attempts left -> state "retrying", nak with JobRetryDelay
//   terminal failure / no attempts left / timed out -> state "dead", job.dead (or
//                                   job.timed_out), dead letter, ack
//   lease lost (KV moved on)     -> nothing published, no ack
// A message that reached max deliver without any ack (its workers died) is announced by
// the server's MAX_DELIVERIES advisory: one worker dead-letters it and deletes it from
// BUILDS, where a work-queue stream would otherwise keep it for ever.
// Every dead letter goes through one DeadLetterPublisher (its own thread, one retry
// policy): neither a slot nor the advisory's NATS callback waits for it.
//
// Stop(): stop pulling; running jobs get worker.shutdown_grace to finish; then they are
// cancelled and nak'ed for redelivery at once; events are flushed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "events/event_sink.hpp"
#include "job/job_runner.hpp"
#include "transport/nats_connection.hpp"
#include "util/result.hpp"
#include "worker/dead_letter_publisher.hpp"

namespace kiln {

class Redactor;

class NatsJobSink;

/// The default worker id: host name and pid.
std::string DefaultWorkerId();

class Worker {
 public:
  Worker(const Config& config, NatsConnection& conn, const JobRunner& runner, std::string worker_id);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Sets up streams, KV, consumer and subscriptions; starts the threads.
  Result<bool> Start();
  /// Asks the worker to stop (thread-safe, returns at once).
  void RequestStop();
  /// Blocks until RequestStop(), then drains as described above.
  void Wait();

  const std::string& id() const { return worker_id_; }
  /// Hands `observer` every event this worker publishes (plus dead letters of messages that
  /// never became a job, and lease losses): the metrics' feed. Set before Start().
  void set_event_observer(EventSink* observer) { observer_ = observer; }
  /// Redacts the job.dead events and letters of messages no attempt ran (the engine's
  /// redactor, fed with the configured secrets). Set before Start().
  void set_redactor(const Redactor* redactor) { redactor_ = redactor; }

 private:
  struct RunningJob;

  void FetchLoop();
  void SlotLoop();
  void HeartbeatLoop();
  void Process(natsMsg* msg);
  void DeadLetterInvalid(natsMsg* msg, std::uint64_t delivered, std::uint64_t stream_seq,
                         const std::string& parse_error);
  /// A job.dead event through JobEvents: stamped (job, seq, time, worker) and redacted.
  void PublishJobDead(EventSink& sink, const std::string& job_id, std::uint64_t seq, nlohmann::json fields);
  /// Claims a first delivery with one write, from the state its publisher's headers describe
  /// (or a new one) and runs it; false when that write failed (the state must be read).
  bool ClaimFirstDelivery(natsMsg* msg, const Job& job, std::uint64_t stream_seq);
  /// The claim's fields: running here, attempt `delivered` of message `stream_seq`.
  void MarkRunningHere(nlohmann::json& state, std::uint64_t delivered, std::uint64_t stream_seq) const;
  void RunClaimed(natsMsg* msg, const Job& job, std::uint64_t delivered, std::uint64_t stream_seq,
                  nlohmann::json state, std::uint64_t revision);
  bool Ack(natsMsg* msg, const std::string& what);
  /// The hand-over for a message that used all its deliveries: its job's state is decided
  /// (dead, unless it finished after all) on the publisher's thread, before the letter.
  DeadLetterPublisher::Handoff MaxDeliveriesHandoff(std::uint64_t seq, int deliveries);
  /// One round of that decision; see DeadLetterPublisher::Handoff::prepare.
  DeadLetterPublisher::Readiness DecideDeadAfterMaxDeliveries(DeadLetter& letter, int deliveries, std::string* why);
  static void OnCancel(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void OnMaxDeliveries(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  bool stopping() const { return stopping_.load(); }
  void SleepUnlessStopping(std::chrono::milliseconds duration);

  const Config& config_;
  NatsConnection& conn_;
  const JobRunner& runner_;
  std::string worker_id_;
  EventSink* observer_ = nullptr;
  const Redactor* redactor_ = nullptr;

  natsSubscription* pull_ = nullptr;
  natsSubscription* cancel_sub_ = nullptr;
  natsSubscription* advisory_sub_ = nullptr;
  std::unique_ptr<DeadLetterPublisher> dead_letters_;  // made by Start()

  std::atomic<bool> stopping_{false};
  std::atomic<bool> shutting_down_jobs_{false};
  std::mutex mutex_;
  std::condition_variable cv_;             // stop requested; the last job ended while stopping
  std::condition_variable message_ready_;  // a fetched message waits in ready_ (wakes one slot)
  std::condition_variable slot_free_;      // a slot became free (wakes the fetcher)
  std::deque<natsMsg*> ready_;  // fetched, waiting for a slot thread (never more than the free slots)
  int busy_ = 0;                // slots running or about to run a message
  std::map<std::string, std::shared_ptr<RunningJob>> running_;

  std::thread fetcher_;
  std::thread heartbeat_;
  std::vector<std::thread> slots_;
};

}  // namespace kiln
