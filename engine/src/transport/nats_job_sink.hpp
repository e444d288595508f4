// The EventSink of one job attempt on a worker: publishes each event to
// builds.status.<id> (a plain publish, which stream BUILD_EVENTS stores) and keeps the
// job's KV state, folding the events in (JobStateBuilder) and writing it with
// compare-and-set.
//
// The runner's terminal event (job.succeeded, job.failed, ...) is held back: the worker
// decides what the attempt's end means (a retry, a dead letter) and calls Finish(), which
// writes the final state first and publishes the event only when that write proves the
// attempt still owns the job. Once a write finds a newer revision (lease lost), the sink
// cancels the job and publishes nothing more: no result lands over a newer attempt.
//
// A write whose answer was lost (a NATS node stopped after the cluster applied it) looks
// "unavailable", and the next write, still naming the old revision, then meets a conflict
// with our own state. Each write carries a token ("write"); on a conflict the entry is read
// back, and if it holds a token of one of our unanswered writes the sink takes its revision
// and writes again, instead of taking the conflict for a lost lease.
//
// State writes are coalesced: a change is written at once when the last write is older than
// kStateWriteInterval, else marked dirty and written by FlushIfDue() (the worker calls it a
// few times a second) or by Finish(). The claim before the run and the final write are
// always synchronous, so a short job costs two writes whatever its steps.
//
// Log lines are no events: they go to the attempt's LogPublisher (stream BUILD_LOGS, every
// line kept up to logs.max_bytes), and the state records each step's line and byte counts
// ("log_lines", "log_bytes") and the whole log's ("log": {subject, lines, bytes}). Finish()
// has the log published and stored before it writes the final state and the terminal event.
//
// Thread-safe (JobEvents already serialises publish(); Heartbeat() comes from another thread).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "config/config.hpp"
#include "events/event_sink.hpp"
#include "state/job_state.hpp"
#include "transport/log_publisher.hpp"
#include "transport/job_state_store.hpp"
#include "transport/nats_connection.hpp"
#include "util/cancellation.hpp"

namespace kiln {

class NatsJobSink : public EventSink {
 public:
  static constexpr std::chrono::milliseconds kStateWriteInterval{500};

  /// `observer` (may be null) gets every event as it is published, and a
  /// event_type::kAttemptLeaseLost notice when the lease is lost.
  NatsJobSink(NatsConnection& conn, std::string job_id, nlohmann::json state, std::uint64_t revision,
              CancellationToken* job_cancel, EventSink* observer = nullptr,
              std::uint64_t log_max_bytes = LogsConfig{}.max_bytes);

  void publish(const nlohmann::json& event) override;
  /// The server's max_payload: events and states are made to fit it (less header room).
  std::size_t max_message_bytes() const override;
  bool takes_log_lines() const override { return true; }
  void log_line(std::string_view step, int attempt, std::string_view line) override;

  /// The terminal event the runner emitted, if any.
  std::optional<nlohmann::json> held_terminal() const;
  /// Folds `event` (a terminal one) into the state, writes it (retrying while NATS is away,
  /// until `deadline`), then publishes the event. False when the lease was lost or the
  /// deadline passed: nothing was published.
  bool Finish(const nlohmann::json& event, std::chrono::steady_clock::time_point deadline);
  /// Writes pending state changes; checks that the entry is still ours.
  void Heartbeat();
  /// Writes pending state changes when the last write is kStateWriteInterval old.
  void FlushIfDue();

  bool lease_lost() const { return lease_lost_.load(); }
  nlohmann::json state() const;

 private:
  WriteOutcome WriteStateLocked();
  /// Marks the state dirty when the log's counts moved since the last write.
  void NoteLogCountsLocked();
  /// MessageText(doc), shrunk by FitInMessage when over max_message_bytes(); empty when even
  /// that does not fit (logged, naming `what`).
  std::string TextThatFits(const nlohmann::json& doc, const char* what) const;
  void PublishEvent(const nlohmann::json& event);
  void LoseLease(const char* where);

  NatsConnection& conn_;
  JobStateStore store_;
  std::string job_id_;
  std::string subject_;
  CancellationToken* job_cancel_;
  EventSink* observer_;
  mutable std::mutex mutex_;
  JobStateBuilder state_;
  std::uint64_t revision_;
  std::string write_prefix_;                   // unique to this sink
  std::uint64_t writes_ = 0;
  std::set<std::string> unanswered_writes_;    // tokens of writes that may have been applied
  bool dirty_ = false;
  bool state_unsendable_ = false;              // the last state did not fit a NATS message

  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::optional<nlohmann::json> terminal_;
  std::atomic<bool> lease_lost_{false};
  std::uint64_t log_version_written_ = 0;
  std::unique_ptr<LogPublisher> log_;  // last: its destructor publishes what is left
};

}  // namespace kiln
