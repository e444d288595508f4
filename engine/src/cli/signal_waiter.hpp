// SIGINT/SIGTERM for the serving commands (worker, gateway): blocked in every thread and
// taken by one thread with sigtimedwait, so the handling is ordinary code (no
// async-signal-safety limits). Construct it before any thread starts, so all inherit the
// mask; children get their mask reset by the process runner.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

namespace kiln::cli {

class SignalWaiter {
 public:
  /// `who` names the command in the log line ("worker", "gateway").
  explicit SignalWaiter(std::string who);
  /// Waits up to `timeout` for a signal; true when one came.
  bool wait_for(std::chrono::milliseconds timeout);

 private:
  std::string who_;
  sigset_t set_;
};

}  // namespace kiln::cli
