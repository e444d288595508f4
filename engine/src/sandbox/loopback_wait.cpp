#include "sandbox/loopback_wait.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace kiln {

namespace {

enum class LoopbackState { addressed, not_yet, gone };

LoopbackState ReadLoopbackState(const std::string& fib_trie, std::string& error) {
  const int fd = ::open(fib_trie.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read " + fib_trie + ": " + std::strerror(errno);
    return LoopbackState::gone;
  }
  // Empty in a new namespace; a few hundred bytes once lo has its address.
  std::string text;
  char buffer[4096];
  ssize_t got;
  while ((got = ::read(fd, buffer, sizeof buffer)) > 0 || (got < 0 && errno == EINTR)) {
    if (got > 0) text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return text.find("127.0.0.1") != std::string::npos ? LoopbackState::addressed : LoopbackState::not_yet;
}

}  // namespace

std::string WaitForLoopbackAddress(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  const std::string fib_trie = "/proc/" + std::to_string(pid) + "/net/fib_trie";
  while (true) {
    std::string error;
    switch (ReadLoopbackState(fib_trie, error)) {
      case LoopbackState::addressed:
        return {};
      case LoopbackState::gone:
        return "the sandbox ended before its loopback was set up (" + error + ")";
      case LoopbackState::not_yet:
        break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return "the sandbox's loopback was not set up in time (no 127.0.0.1 in " + fib_trie + ")";
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace kiln
