// Shows a job's events to a person: on a terminal a live line (step, attempt, elapsed
// time) redrawn in place, then ✓/✗ with the duration; elsewhere one plain line per step.
// Thread-safe: events come from the job's thread and from process output threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "events/event_sink.hpp"

namespace kiln::cli {

class ProgressPrinter final : public EventSink {
 public:
  ProgressPrinter(std::FILE* out, bool live);
  ~ProgressPrinter() override;
  void publish(const nlohmann::json& event) override;

 private:
  void redraw_locked();
  void ticker();

  std::FILE* out_;
  bool live_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string step_;
  int attempt_ = 0;
  std::string last_line_;
  std::chrono::steady_clock::time_point step_started_;
  std::vector<std::string> step_log_tail_;
  std::thread ticker_;
};

/// Writes each event as one JSON line (kiln run --json).
class JsonLinesPrinter final : public EventSink {
 public:
  explicit JsonLinesPrinter(std::FILE* out) : out_(out) {}
  void publish(const nlohmann::json& event) override;

 private:
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace kiln::cli
