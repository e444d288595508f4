// Real git servers for tests, on loopback, over repositories in a temp dir.
//
// GitServer serves the bare repositories under `base`:
//  - over git:// by `git daemon` (every repository exported, upload-pack only);
//  - over http:// by `git http-backend` (the real CGI) behind a small HTTP/1.1 server in
//    this process that demands basic auth, one thread per connection, one request per
//    connection. It counts the requests it refused, so a test can prove a client gave up
//    after a refused login instead of looping.
// Both listen on free 127.0.0.1 ports; each can be stopped (to cut the network) and started
// again on a fresh port. The destructor stops both.
//
// GitWorkRepo is a working repository made with the git CLI whose commits a test pushes
// into one of the server's bare repositories.
//
// Not thread-safe as an object (start/stop from the test's thread); the HTTP server's own
// threads only touch atomics and a mutex-guarded log.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/free_port.hpp"

namespace kiln::testing {

class GitServer {
 public:
  explicit GitServer(std::filesystem::path base);
  ~GitServer();
  GitServer(const GitServer&) = delete;
  GitServer& operator=(const GitServer&) = delete;

  const std::filesystem::path& base() const { return base_; }
  /// Makes an empty bare repository `name` (e.g. "acme/shop.git") under base().
  std::filesystem::path CreateBareRepo(const std::string& name);

  /// Starts `git daemon`; false with `error` when it could not.
  bool StartDaemon(std::string* error = nullptr);
  void StopDaemon();
  int daemon_port() const { return daemon_port_; }
  /// git://127.0.0.1:<port>/<name>
  std::string DaemonUrl(const std::string& name) const;

  /// Starts the HTTP server; requests must carry basic auth `user`:`password`.
  bool StartHttp(const std::string& user, const std::string& password, std::string* error = nullptr);
  void StopHttp();
  int http_port() const { return http_port_; }
  /// http://127.0.0.1:<port>/<name>, without credentials.
  std::string HttpUrl(const std::string& name) const;
  /// Requests answered 401 (missing or wrong login) and requests served.
  int http_refused() const { return http_refused_.load(); }
  int http_served() const { return http_served_.load(); }

 private:
  void AcceptLoop(int listen_fd);
  void HandleConnection(int fd);

  std::filesystem::path base_;
  std::filesystem::path log_dir_;
  int daemon_pid_ = -1;
  int daemon_port_ = 0;

  int http_fd_ = -1;
  int http_port_ = 0;
  std::string expected_authorization_;
  std::thread http_thread_;
  std::atomic<bool> http_stop_{false};
  std::atomic<int> http_refused_{0};
  std::atomic<int> http_served_{0};
  std::mutex connections_mutex_;
  std::vector<std::thread> connections_;
};

class GitWorkRepo {
 public:
  /// `git init` in `dir` (branch main), with `remote` (a path to a bare repo) as origin.
  GitWorkRepo(std::filesystem::path dir, const std::filesystem::path& remote);

  /// Writes the files (path -> content; parent dirs created), commits everything, returns
  /// the commit id.
  std::string Commit(const std::map<std::string, std::string>& files, const std::string& message);
  /// Pushes HEAD to `branch` of origin (forced); a name starting with refs/ is a full ref.
  void Push(const std::string& branch = "main");
  /// Runs `git <args>` in the repository; throws on failure; returns the output, trimmed.
  std::string Git(const std::string& args);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};


}  // namespace kiln::testing
