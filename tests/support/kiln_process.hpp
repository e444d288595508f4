// A `kiln <args>` child process (the binary under test) with its output appended to a log
// file, for tests that run real workers. SIGKILLed and reaped if still running at the end.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace kiln::testing {

inline std::string KilnBinary() { return std::string(KILN_BINARY_DIR) + "/bin/kiln"; }

/// A `kiln <args>` child process; output to `log`. Killed (SIGKILL) if still running at the end.
class KilnProcess {
 public:
  KilnProcess(std::vector<std::string> args, std::string log) : log_(std::move(log)) {
    args.insert(args.begin(), KilnBinary());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~KilnProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  void Signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  /// The exit code, or -1 if it did not end within `timeout` (then it still runs), or
  /// 128+signal when killed.
  int Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return code_;
  }
  const std::string& log() const { return log_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int code_ = -1;
  std::string log_;
};

}  // namespace kiln::testing
