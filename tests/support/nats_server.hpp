// A real nats-server with JetStream on a free 127.0.0.1 port and a temp store dir, for
// tests. Stop() / Start() again keeps the port and the store (a restart); Kill() is SIGKILL.
// The destructor stops it and removes the store.
#pragma once

#include <string>
#include <vector>

#include "support/free_port.hpp"
#include "support/nats_process.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {

class NatsServer {
 public:
  NatsServer();  // starts it; throws std::runtime_error when it does not come up
  /// With more command-line options (auth, TLS: `--user u --pass p`, `--tls ...`).
  explicit NatsServer(std::vector<std::string> extra_args);
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  void Start() { process_.Start(); }
  /// SIGTERM and wait (JetStream writes its state out).
  void Stop() { process_.Stop(); }
  void Kill() { process_.Kill(); }
  bool running() const { return process_.running(); }

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::string& store_dir() const { return store_; }
  const std::string& log_file() const { return process_.log_file(); }

 private:
  TempDir dir_{"kiln-nats"};  // first: removed after the process has stopped
  std::string store_;
  int port_ = 0;
  NatsProcess process_;
};


}  // namespace kiln::testing
