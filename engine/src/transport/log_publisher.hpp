// The log of one job attempt on its way to stream BUILD_LOGS (subject builds.logs.<id>).
//
// Append() is called by the threads that read the step's processes and only queues the line
// under a short lock: the pipe keeps being read whatever NATS does, so a step that prints
// as fast as it can is never blocked on the network. A thread of the publisher's own
// batches the queued lines into chunks (LogChunk: one step attempt each, up to kChunkBytes
// of text, sent at the latest kChunkDelay after their first line) and publishes them with
// JetStream acknowledgements, retrying while NATS is away.
//
// Per job, over all its attempts, at most `max_bytes` (logs.max_bytes) are kept: an attempt
// starts with what the earlier ones left of it (the last stored chunk's kept_bytes), keeps
// the first half of that as it comes (live) and past it sends the lines to a ring of the
// last half, published by Finish() after a marker chunk saying how many lines and bytes
// were left out between the two. An attempt that finds nothing left keeps its last line and
// the marker: a retry never gets a fresh cap, yet its log still ends where it failed.
//
// Finish() publishes what is left and waits for the acknowledgements: the worker calls it
// before the job's terminal event, so a reader that sees that event can read the whole log.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "transport/nats_connection.hpp"

namespace kiln {

struct LogCounts {
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;  // of the lines' text, newlines included
};

class LogPublisher {
 public:
  // 256 KiB rather than 64: each chunk is one acknowledged publish, and at a million lines a
  // second a quarter of the round trips took a third off the worker's CPU for the log
  // (docs/benchmarks/logs.md). A slow log is still sent within kChunkDelay.
  static constexpr std::size_t kChunkBytes = 256 * 1024;
  static constexpr std::size_t kChunkLines = 4096;  // bounds the per-line timestamps of a chunk
  static constexpr std::chrono::milliseconds kChunkDelay{250};

  LogPublisher(NatsConnection& conn, std::string job_id, std::uint64_t job_attempt, std::uint64_t max_bytes);
  /// Publishes what is queued (up to a few seconds) and stops the thread.
  ~LogPublisher();
  LogPublisher(const LogPublisher&) = delete;
  LogPublisher& operator=(const LogPublisher&) = delete;

  /// Queues one line (redacted already) of `step`'s attempt `attempt`. Never blocks on NATS.
  void Append(std::string_view step, int attempt, std::string_view line);
  /// Publishes everything, the kept tail and its marker included, and waits for the
  /// acknowledgements until `deadline`. False when some of the log was not stored by then.
  /// Lines appended afterwards are published as they come (no tail any more).
  bool Finish(std::chrono::steady_clock::time_point deadline);

  /// Lines and bytes per step name so far (all of them, kept or left out past the cap).
  std::map<std::string, LogCounts> counts() const;
  /// Changes each time counts() does.
  std::uint64_t version() const;
  const std::string& subject() const { return subject_; }

 private:
  struct Line {
    std::string step;
    int attempt = 0;
    std::uint64_t number = 0;
    std::int64_t time_ms = 0;
    std::string text;
    LogCounts skipped;  // a marker: what was left out before the tail
  };

  void Run();
  /// Turns `lines` into chunks and publishes them, in order; false when stopping gave up.
  bool PublishLines(std::deque<Line>& lines);
  bool PublishChunk(const std::string& body);
  /// The bytes of text the job's earlier attempts stored (0: none, or unknown, logged).
  std::uint64_t KeptBeforeThisAttempt();

  NatsConnection& conn_;
  std::string job_id_;
  std::string subject_;
  std::uint64_t job_attempt_;
  std::size_t head_budget_;
  std::size_t tail_budget_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;       // the thread: lines to send, or stopping
  std::condition_variable published_;  // Finish(): the queue went out
  // A deque: at a million lines a second a vector's regrowth (moves, fresh pages to fault
  // in) was a fifth of the worker's time; a deque's blocks are reused.
  std::deque<Line> queue_;
  std::size_t queued_bytes_ = 0;
  std::chrono::steady_clock::time_point first_queued_{};
  bool sending_ = false;               // the thread holds lines taken from the queue
  std::uint64_t next_line_ = 1;
  std::size_t head_bytes_ = 0;
  bool in_tail_ = false;               // the head is full: lines go to the ring
  std::deque<Line> tail_;
  std::size_t tail_bytes_ = 0;
  LogCounts skipped_;
  std::map<std::string, LogCounts> counts_;
  std::uint64_t version_ = 0;
  bool failed_ = false;                // a chunk could not be stored before the deadline
  std::chrono::steady_clock::time_point give_up_at_ = std::chrono::steady_clock::time_point::max();
  bool finishing_ = false;             // Finish() waits: send without waiting for a full chunk
  bool stopping_ = false;
  std::string msg_id_prefix_;
  std::uint64_t chunks_ = 0;           // only the thread uses it
  std::uint64_t kept_bytes_ = 0;       // the job's stored text so far; only the thread uses it after the constructor
  std::thread thread_;
};

}  // namespace kiln
