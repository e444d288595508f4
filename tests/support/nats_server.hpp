// A real nats-server with JetStream on a free 127.0.0.1 port and a temp store dir, for
// tests. Stop() / Start() again keeps the port and the store (a restart); Kill() is SIGKILL.
// The destructor stops it and removes the store.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {

class NatsServer {
 public:
  NatsServer();  // starts it; throws std::runtime_error when it does not come up
  /// With more command-line options (auth, TLS: `--user u --pass p`, `--tls ...`).
  explicit NatsServer(std::vector<std::string> extra_args);
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  void Start();
  /// SIGTERM and wait (JetStream writes its state out).
  void Stop();
  void Kill();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::string& store_dir() const { return store_; }
  std::string log_file() const;

 private:
  void WaitReady();
  TempDir dir_{"kiln-nats"};
  std::string store_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  pid_t pid_ = -1;
};


}  // namespace kiln::testing
