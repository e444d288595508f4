// One nats-server process for tests: started with the given options (its log file added),
// ready when its client port accepts and the log says "Server is ready" (JetStream up).
// Start() again after Stop() or Kill() restarts it with the same options. The destructor
// stops it. NatsServer and NatsCluster are made of these.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kiln::testing {

class NatsProcess {
 public:
  /// `label` names the process in errors ("nats-server", "nats-server n1").
  NatsProcess(std::string label, std::vector<std::string> options, std::string log_file, int client_port);
  ~NatsProcess();
  NatsProcess(const NatsProcess&) = delete;
  NatsProcess& operator=(const NatsProcess&) = delete;

  /// Starts it and waits up to 30 s until it is ready; throws std::runtime_error naming the
  /// log when it exits or does not come up.
  void Start();
  /// SIGTERM and wait (JetStream writes its state out; a cluster node leaves cleanly);
  /// SIGKILL after 10 s.
  void Stop();
  /// SIGKILL: it dies as in a crash.
  void Kill();
  bool running() const { return pid_ > 0; }
  const std::string& log_file() const { return log_file_; }

 private:
  void WaitReady();
  std::string label_;
  std::vector<std::string> options_;
  std::string log_file_;
  int client_port_;
  pid_t pid_ = -1;
};

}  // namespace kiln::testing
