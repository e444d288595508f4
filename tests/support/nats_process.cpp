#include "support/nats_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {

NatsProcess::NatsProcess(std::string label, std::vector<std::string> options, std::string log_file, int client_port)
    : label_(std::move(label)), options_(std::move(options)), log_file_(std::move(log_file)), client_port_(client_port) {}

NatsProcess::~NatsProcess() { Stop(); }

void NatsProcess::Start() {
  if (pid_ > 0) return;
  WriteFile(log_file_, "");  // WaitReady looks for this run's "Server is ready"
  std::vector<std::string> args = {"nats-server"};
  args.insert(args.end(), options_.begin(), options_.end());
  args.insert(args.end(), {"-l", log_file_});
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("nats-server", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  WaitReady();
}

void NatsProcess::WaitReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(label_ + " exited at start; see " + log_file_);
    }
    if (LoopbackPortAccepts(client_port_) && ReadFile(log_file_).find("Server is ready") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  throw std::runtime_error(label_ + " did not become ready in 30 s; see " + log_file_);
}

void NatsProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
}

void NatsProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace kiln::testing
