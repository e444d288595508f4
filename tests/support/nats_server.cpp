#include "support/nats_server.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace kiln::testing {

NatsServer::NatsServer() : NatsServer(std::vector<std::string>{}) {}

NatsServer::NatsServer(std::vector<std::string> extra_args)
    : store_((dir_.path() / "store").string()), extra_args_(std::move(extra_args)), port_(FreeLoopbackPort()) {
  Start();
}

NatsServer::~NatsServer() {
  if (pid_ > 0) Stop();
}

std::string NatsServer::log_file() const { return (dir_.path() / "nats-server.log").string(); }

void NatsServer::Start() {
  if (pid_ > 0) return;
  std::string port = std::to_string(port_);
  std::string log = log_file();
  WriteFile(log, "");  // WaitReady looks for this run's "Server is ready"
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<std::string> args = {"nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd", store_, "-l", log};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("nats-server", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  WaitReady();
}

void NatsServer::WaitReady() {
  // Ready when the port accepts and the log says JetStream and the server are up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nats-server exited at start; see " + log_file());
    }
    if (LoopbackPortAccepts(port_) && ReadFile(log_file()).find("Server is ready") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  throw std::runtime_error("nats-server did not become ready in 30 s; see " + log_file());
}

void NatsServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
}

void NatsServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace kiln::testing
