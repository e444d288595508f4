#include "cli/signal_waiter.hpp"

#include <spdlog/spdlog.h>

namespace kiln::cli {

SignalWaiter::SignalWaiter(std::string who) : who_(std::move(who)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

bool SignalWaiter::wait_for(std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000), static_cast<long>((timeout.count() % 1000) * 1000000)};
  int sig = sigtimedwait(&set_, nullptr, &ts);
  if (sig > 0) {
    spdlog::info("{}: received {}", who_, sig == SIGINT ? "SIGINT" : "SIGTERM");
    return true;
  }
  return false;
}

}  // namespace kiln::cli
