#include "support/git_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "support/temp_dir.hpp"

extern char** environ;

namespace kiln::testing {
namespace {

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -6;
  for (unsigned char c : in) {
    value = (value << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out += kAlphabet[(value >> bits) & 0x3f];
      bits -= 6;
    }
  }
  if (bits > -6) out += kAlphabet[((value << 8) >> (bits + 8)) & 0x3f];
  while (out.size() % 4) out += '=';
  return out;
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

bool WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool WritePipe(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads from a connection until `buffer` holds `marker` (or `wanted` bytes); false on EOF.
bool ReadUntil(int fd, std::string* buffer, const std::string& marker) {
  char chunk[16384];
  while (buffer->find(marker) == std::string::npos) {
    if (buffer->size() > (1u << 20)) return false;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

bool ReadAtLeast(int fd, std::string* buffer, std::size_t wanted) {
  char chunk[65536];
  while (buffer->size() < wanted) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

void SendSimple(int fd, int status, const std::string& reason, const std::string& extra_headers) {
  const std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra_headers +
                               "Content-Length: 0\r\nConnection: close\r\n\r\n";
  WriteAll(fd, response.data(), response.size());
}

// Runs `git http-backend` as a CGI; returns its raw output (headers, blank line, body).
bool RunCgi(const std::map<std::string, std::string>& env_map, const std::string& body, std::string* output) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return false;
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env_map) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  char git[] = "git";
  char backend[] = "http-backend";
  char* argv[] = {git, backend, nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "git", &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    return false;
  }
  std::thread writer([fd = in_pipe[1], &body] {
    WritePipe(fd, body);
    ::close(fd);
  });
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(out_pipe[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output->append(chunk, static_cast<std::size_t>(n));
  }
  ::close(out_pipe[0]);
  writer.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  return true;
}

}  // namespace

GitServer::GitServer(std::filesystem::path base) : base_(std::move(base)) {
  std::filesystem::create_directories(base_);
  log_dir_ = base_.parent_path();
}

GitServer::~GitServer() {
  StopDaemon();
  StopHttp();
}

std::filesystem::path GitServer::CreateBareRepo(const std::string& name) {
  const auto path = base_ / name;
  std::string output;
  if (Shell("git init -q --bare -b main " + Quote(path.string()), &output) != 0) {
    throw std::runtime_error("git init --bare failed: " + output);
  }
  return path;
}

bool GitServer::StartDaemon(std::string* error) {
  StopDaemon();
  const std::string log = (log_dir_ / "git-daemon.log").string();
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreeLoopbackPort();
    std::vector<std::string> args = {"git",
                                     "daemon",
                                     "--reuseaddr",
                                     "--listen=127.0.0.1",
                                     "--port=" + std::to_string(port),
                                     "--base-path=" + base_.string(),
                                     "--export-all",
                                     base_.string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);  // its own group: stopping it stops its children
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, "git", &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
      if (error) *error = std::string("cannot start git daemon: ") + std::strerror(rc);
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (LoopbackPortAccepts(port)) {
        daemon_pid_ = pid;
        daemon_port_ = port;
        return true;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;  // most likely the port was taken in between: try another
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  if (error) *error = "git daemon did not start (see " + log + ")";
  return false;
}

void GitServer::StopDaemon() {
  if (daemon_pid_ <= 0) return;
  ::kill(-daemon_pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::waitpid(daemon_pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-daemon_pid_, SIGKILL);
      ::waitpid(daemon_pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-daemon_pid_, SIGKILL);  // connection children still running, if any
  daemon_pid_ = -1;
}

std::string GitServer::DaemonUrl(const std::string& name) const {
  return "git://127.0.0.1:" + std::to_string(daemon_port_) + "/" + name;
}

bool GitServer::StartHttp(const std::string& user, const std::string& password, std::string* error) {
  StopHttp();
  expected_authorization_ = "Basic " + Base64(user + ":" + password);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (error) *error = std::string("bind/listen: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  http_fd_ = fd;
  http_port_ = ntohs(address.sin_port);
  http_stop_ = false;
  http_thread_ = std::thread([this, fd] { AcceptLoop(fd); });
  return true;
}

void GitServer::StopHttp() {
  if (http_fd_ < 0) return;
  http_stop_ = true;
  if (http_thread_.joinable()) http_thread_.join();
  ::close(http_fd_);
  http_fd_ = -1;
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(connections_mutex_);
    connections.swap(connections_);
  }
  for (auto& thread : connections) thread.join();
}

std::string GitServer::HttpUrl(const std::string& name) const {
  return "http://127.0.0.1:" + std::to_string(http_port_) + "/" + name;
}

void GitServer::AcceptLoop(int listen_fd) {
  while (!http_stop_) {
    pollfd poll_fd{listen_fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{20, 0};  // a client that connects and says nothing cannot hold StopHttp
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::lock_guard lock(connections_mutex_);
    connections_.emplace_back([this, fd] {
      HandleConnection(fd);
      ::close(fd);
    });
  }
}

void GitServer::HandleConnection(int fd) {
  std::string buffer;
  if (!ReadUntil(fd, &buffer, "\r\n\r\n")) return;
  const std::size_t header_end = buffer.find("\r\n\r\n");
  const std::string head = buffer.substr(0, header_end);
  std::string body = buffer.substr(header_end + 4);

  std::map<std::string, std::string> headers;
  std::size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    if (const auto colon = line.find(':'); colon != std::string::npos) {
      headers[Lower(line.substr(0, colon))] = Trim(line.substr(colon + 1));
    }
  }
  const auto first_space = request_line.find(' ');
  const auto second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) {
    SendSimple(fd, 400, "Bad Request", "");
    return;
  }
  const std::string method = request_line.substr(0, first_space);
  const std::string target = request_line.substr(first_space + 1, second_space - first_space - 1);

  if (headers["authorization"] != expected_authorization_) {
    ++http_refused_;
    SendSimple(fd, 401, "Unauthorized", "WWW-Authenticate: Basic realm=\"kiln-test\"\r\n");
    return;
  }
  if (Lower(headers["expect"]) == "100-continue") {
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    WriteAll(fd, kContinue, sizeof kContinue - 1);
  }
  if (Lower(headers["transfer-encoding"]) == "chunked") {
    std::string raw = std::move(body), decoded;
    for (;;) {
      if (!ReadUntil(fd, &raw, "\r\n")) return;
      const std::size_t size_end = raw.find("\r\n");
      const std::size_t size = std::stoul(raw.substr(0, size_end), nullptr, 16);
      if (!ReadAtLeast(fd, &raw, size_end + 2 + size + 2)) return;
      decoded.append(raw, size_end + 2, size);
      raw.erase(0, size_end + 2 + size + 2);
      if (size == 0) break;
    }
    body = std::move(decoded);
  } else if (headers.count("content-length")) {
    const std::size_t length = std::stoul(headers["content-length"]);
    if (!ReadAtLeast(fd, &body, length)) return;
    body.resize(length);
  }

  const auto question = target.find('?');
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"GIT_PROJECT_ROOT", base_.string()},
      {"GIT_HTTP_EXPORT_ALL", "1"},
      {"REQUEST_METHOD", method},
      {"PATH_INFO", target.substr(0, question)},
      {"QUERY_STRING", question == std::string::npos ? std::string() : target.substr(question + 1)},
      {"CONTENT_TYPE", headers["content-type"]},
      {"CONTENT_LENGTH", std::to_string(body.size())},
      {"REMOTE_USER", "kiln-test"},
      {"REMOTE_ADDR", "127.0.0.1"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
  };
  if (headers.count("content-encoding")) env["HTTP_CONTENT_ENCODING"] = headers["content-encoding"];
  if (headers.count("git-protocol")) env["GIT_PROTOCOL"] = headers["git-protocol"];
  std::string output;
  if (!RunCgi(env, body, &output)) {
    SendSimple(fd, 500, "Internal Server Error", "");
    return;
  }
  // CGI output: header lines, a blank line, the body.
  std::size_t split = output.find("\r\n\r\n");
  std::size_t skip = 4;
  if (split == std::string::npos || output.find("\n\n") < split) {
    split = output.find("\n\n");
    skip = 2;
  }
  if (split == std::string::npos) {
    SendSimple(fd, 502, "Bad Gateway", "");
    return;
  }
  std::string status = "200 OK";
  std::string response_headers;
  std::size_t start = 0;
  const std::string cgi_head = output.substr(0, split);
  while (start < cgi_head.size()) {
    std::size_t end = cgi_head.find('\n', start);
    if (end == std::string::npos) end = cgi_head.size();
    std::string line = cgi_head.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    start = end + 1;
    if (line.empty()) continue;
    if (Lower(line.substr(0, 7)) == "status:") {
      status = Trim(line.substr(7));
    } else {
      response_headers += line + "\r\n";
    }
  }
  const std::string response_body = output.substr(split + skip);
  const std::string response = "HTTP/1.1 " + status + "\r\n" + response_headers +
                               "Content-Length: " + std::to_string(response_body.size()) +
                               "\r\nConnection: close\r\n\r\n";
  ++http_served_;
  if (WriteAll(fd, response.data(), response.size())) WriteAll(fd, response_body.data(), response_body.size());
}

GitWorkRepo::GitWorkRepo(std::filesystem::path dir, const std::filesystem::path& remote) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  Git("init -q -b main");
  Git("remote add origin " + Quote(remote.string()));
}

std::string GitWorkRepo::Git(const std::string& args) {
  std::string output;
  const std::string command = "git -C " + Quote(dir_.string()) +
                              " -c user.name=kiln-test -c user.email=test@kiln.invalid"
                              " -c protocol.file.allow=always -c commit.gpgsign=false " +
                              args;
  if (Shell(command, &output) != 0) throw std::runtime_error(command + " failed: " + output);
  return Trim(output);
}

std::string GitWorkRepo::Commit(const std::map<std::string, std::string>& files, const std::string& message) {
  for (const auto& [path, content] : files) WriteFile(dir_ / path, content);
  Git("add -A");
  Git("commit -q --allow-empty -m " + Quote(message));
  return Git("rev-parse HEAD");
}

void GitWorkRepo::Push(const std::string& branch) {
  Git("push -q -f origin HEAD:" + (branch.rfind("refs/", 0) == 0 ? branch : "refs/heads/" + branch));
}

}  // namespace kiln::testing
