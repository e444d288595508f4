// A TCP listener on loopback standing for a service a job must not reach (a registry a
// Dockerfile names, nats-server, the gateway): did anything connect, and what did it send?
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace kiln::testing {

/// A TCP listener on 127.0.0.1 (a free port) that counts connections and keeps what they send.
class LoopbackListener {
 public:
  LoopbackListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 8) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackListener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }
  std::string received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd waiting{fd_, POLLIN, 0};
      if (::poll(&waiting, 1, 100) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++connections_;
      char buffer[256];
      pollfd reading{client, POLLIN, 0};
      if (::poll(&reading, 1, 5000) > 0) {
        ssize_t n = ::read(client, buffer, sizeof buffer);
        if (n > 0) {
          std::lock_guard lock(mutex_);
          received_.append(buffer, static_cast<std::size_t>(n));
        }
      }
      ::close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::string received_;
  std::thread thread_;
};

}  // namespace kiln::testing
