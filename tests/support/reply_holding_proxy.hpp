// A TCP proxy on loopback between a client and a real server that can hold back what the
// server sends while still passing on what the client sends: the server acts on a request
// and its answer does not arrive (until released). That is how a NATS node stop or a network
// hiccup loses the acknowledgement of a write the server has stored, on demand, in one test.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::testing {

class ReplyHoldingProxy {
 public:
  /// Listens on a free loopback port and forwards each connection to 127.0.0.1:`server_port`.
  explicit ReplyHoldingProxy(int server_port);
  ~ReplyHoldingProxy();
  ReplyHoldingProxy(const ReplyHoldingProxy&) = delete;
  ReplyHoldingProxy& operator=(const ReplyHoldingProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  /// While held, bytes from the server wait in the proxy's socket; released, they go on in
  /// order (a late answer the client may have given up on).
  void hold_replies(bool held) { held_ = held; }

 private:
  void Accept();
  void Pump(int from, int to, bool from_server);

  int listen_fd_ = -1;
  int server_port_ = 0;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> held_{false};
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::thread acceptor_;
};

}  // namespace kiln::testing
