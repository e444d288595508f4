// A plain TCP connection to the gateway under test, for the HTTP limit tests: sends exactly
// the bytes a test writes (slow headers, chunked bodies, too many connections), which an
// HTTP client library would not, and reads one answer. Always to 127.0.0.1; the source
// address may be another loopback address, to be a second client for the per-address cap.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace kiln::testing {

struct RawAnswer {
  int status = 0;  // 0: no answer (closed, reset or timed out)
  std::string headers;
  std::string body;
};

class RawHttpConnection {
 public:
  explicit RawHttpConnection(int port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0;
  }
  ~RawHttpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawHttpConnection(const RawHttpConnection&) = delete;
  RawHttpConnection& operator=(const RawHttpConnection&) = delete;

  bool connected() const { return connected_; }

  /// False once the peer closed or reset the connection.
  bool Send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// One answer (headers and a Content-Length body), waiting at most `timeout`.
  RawAnswer Read(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    RawAnswer answer;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t header_end = std::string::npos;
    std::size_t body_length = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = in_.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          answer.headers = in_.substr(0, header_end);
          if (answer.headers.rfind("HTTP/1.1 ", 0) == 0) answer.status = std::stoi(answer.headers.substr(9, 3));
          auto cl = Lower(answer.headers).find("content-length: ");
          if (cl != std::string::npos) body_length = std::stoul(answer.headers.substr(cl + 16));
        }
      }
      if (header_end != std::string::npos && in_.size() >= header_end + 4 + body_length) {
        answer.body = in_.substr(header_end + 4, body_length);
        in_.erase(0, header_end + 4 + body_length);
        return answer;
      }
      if (!Fill(deadline)) {
        answer.status = header_end == std::string::npos ? 0 : answer.status;
        return answer;
      }
    }
  }

  /// Whatever arrives within `timeout` (a stream without framing, such as Server-Sent Events).
  std::string ReadRaw(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
    }
    std::string out = std::move(in_);
    in_.clear();
    return out;
  }

  /// True when the peer closes the connection (EOF or reset) within `timeout`.
  bool ClosedByPeer(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};

}  // namespace kiln::testing
