#include "support/reply_holding_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace kiln::testing {

namespace {
sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return address;
}

bool WriteAll(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, static_cast<std::size_t>(size));
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}
}  // namespace

ReplyHoldingProxy::ReplyHoldingProxy(int server_port) : server_port_(server_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = Loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listen_fd_, 8) != 0) {
    throw std::runtime_error("reply-holding proxy: cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

ReplyHoldingProxy::~ReplyHoldingProxy() {
  stop_ = true;
  acceptor_.join();
  for (auto& thread : threads_) thread.join();
  for (int fd : fds_) ::close(fd);
  ::close(listen_fd_);
}

void ReplyHoldingProxy::Accept() {
  while (!stop_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = Loopback(server_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(server);
      ::close(client);
      continue;
    }
    std::lock_guard lock(mutex_);
    fds_.push_back(client);
    fds_.push_back(server);
    threads_.emplace_back([this, client, server] { Pump(client, server, false); });
    threads_.emplace_back([this, client, server] { Pump(server, client, true); });
  }
}

void ReplyHoldingProxy::Pump(int from, int to, bool from_server) {
  char buffer[16384];
  while (!stop_) {
    if (from_server && held_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    pollfd waiting{from, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;
    // Looked at again: a hold that began while this thread waited in poll holds what arrived.
    if (from_server && held_) continue;
    ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n <= 0 || !WriteAll(to, buffer, n)) {
      // One side closed: close the other's writing half so that it sees the end too.
      ::shutdown(to, SHUT_WR);
      return;
    }
  }
}

}  // namespace kiln::testing
