// Why a piece of work must stop: cancelled by someone, or past its deadline.
//
// A job holds one token; each step attempt holds a child token with the step's deadline,
// so stopping the job stops the step and everything it runs. Thread-safe: cancel() may
// be called from any thread (a signal handler's thread, a NATS callback) while the job's
// thread polls stop_reason().
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

namespace kiln {

enum class StopReason { none, cancelled, timed_out };

class CancellationToken {
 public:
  using Clock = std::chrono::steady_clock;

  CancellationToken() = default;
  explicit CancellationToken(const CancellationToken* parent) : parent_(parent) {}
  CancellationToken(const CancellationToken&) = delete;
  CancellationToken& operator=(const CancellationToken&) = delete;

  void cancel() { cancelled_.store(true, std::memory_order_release); }
  void set_deadline(Clock::time_point deadline) {
    deadline_ns_.store(deadline.time_since_epoch().count(), std::memory_order_release);
  }
  void set_timeout(std::chrono::milliseconds timeout) {
    if (timeout.count() > 0) set_deadline(Clock::now() + timeout);
  }
  std::optional<Clock::time_point> deadline() const {
    auto ns = deadline_ns_.load(std::memory_order_acquire);
    if (ns == kNoDeadline) return std::nullopt;
    return Clock::time_point(Clock::duration(ns));
  }

  /// The first reason found, own before the parent's.
  StopReason stop_reason() const {
    if (cancelled_.load(std::memory_order_acquire)) return StopReason::cancelled;
    auto ns = deadline_ns_.load(std::memory_order_acquire);
    if (ns != kNoDeadline && Clock::now().time_since_epoch().count() >= ns) return StopReason::timed_out;
    return parent_ ? parent_->stop_reason() : StopReason::none;
  }
  bool stopped() const { return stop_reason() != StopReason::none; }

 private:
  static constexpr Clock::rep kNoDeadline = 0;
  const CancellationToken* parent_ = nullptr;
  std::atomic<bool> cancelled_{false};
  std::atomic<Clock::rep> deadline_ns_{kNoDeadline};
};

}  // namespace kiln
